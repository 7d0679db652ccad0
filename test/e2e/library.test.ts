import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import {
  MAX_PREFERRED_LENGTH, NERR, NetApiError, NetMessageBufferSend, NetMessageNameAdd, NetMessageNameDel,
  NetMessageNameEnum, NetMessageNameGetInfo, connect, encodeMessageBuffer,
  type MSG_INFO_0, type MSG_INFO_1, type Ref,
} from '../../src/lib/index.js';
import { tempDataDir } from '../helpers/daemon.js';

describe('the NetMessage* API and connect() against a daemon', () => {
  let daemon: Daemon;
  let cleanup: () => Promise<void>;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    // The NetMessage* functions take no data dir, as in the original: they read NETSEND_DATA_DIR.
    process.env.NETSEND_DATA_DIR = temp.dir;
    const config = loadConfig({ dataDir: temp.dir, env: {}, flags: { netbiosName: 'LIBHOST', terminal: 'no', maxAliases: '8' } });
    daemon = await Daemon.start(config, { stdout: new PassThrough(), log: () => {} });
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  const inbox = async () => {
    const client = await connect();
    try {
      return await client.inbox.list();
    } finally {
      await client.close();
    }
  };

  test('NetMessageBufferSend with a string buf and buflen in bytes delivers the text', async () => {
    assert.equal(await NetMessageNameAdd(null, 'alice'), NERR.NERR_Success);
    const text = 'Grüße, ünïcødé ✓';
    assert.equal(await NetMessageBufferSend(null, 'ALICE', 'BOB', text, text.length * 2), 0);
    const last = (await inbox()).at(-1);
    assert.deepEqual(last && { from: last.from, to: last.to, text: last.text, via: last.via }, { from: 'BOB', to: 'ALICE', text, via: 'local' });
  });

  test('NetMessageBufferSend takes UTF-16LE bytes, honours a shorter buflen, and defaults fromname', async () => {
    const bytes = encodeMessageBuffer('hello world');
    assert.equal(await NetMessageBufferSend(null, 'alice', null, bytes, 10), 0);
    const last = (await inbox()).at(-1);
    assert.equal(last?.text, 'hello');
    assert.equal(last?.from, 'LIBHOST');
  });

  test('servername null, "", the computer name and \\\\NAME all mean this computer; another server is reached over the secure channel', async () => {
    for (const server of [null, '', 'LIBHOST', '\\\\libhost']) {
      assert.equal(await NetMessageBufferSend(server, 'ALICE', null, 'x', 2), 0, String(server));
    }
    // no such host answers here: the secure channel cannot be opened
    assert.equal(await NetMessageBufferSend('\\\\ELSEWHERE', 'ALICE', null, 'x', 2), NERR.NERR_NetworkError);
  });

  test('NetMessageBufferSend returns ERROR_INVALID_PARAMETER for bad lengths and names', async () => {
    const cases: Array<[string, Parameters<typeof NetMessageBufferSend>]> = [
      ['odd buflen', [null, 'ALICE', null, 'abc', 3]],
      ['buflen past the buffer', [null, 'ALICE', null, 'abc', 8]],
      ['negative buflen', [null, 'ALICE', null, 'abc', -2]],
      ['lone surrogate', [null, 'ALICE', null, '\ud800x', 4]],
      ['empty msgname', [null, '', null, 'abc', 6]],
      ['16-character msgname', [null, 'ABCDEFGHIJKLMNOP', null, 'abc', 6]],
      ['msgname with a colon', [null, 'A:B', null, 'abc', 6]],
      ['fromname with a star', [null, 'ALICE', 'B*B', 'abc', 6]],
    ];
    for (const [what, args] of cases) assert.equal(await NetMessageBufferSend(...args), NERR.ERROR_INVALID_PARAMETER, what);
  });

  test('NetMessageBufferSend to a name that is not here is NERR_NameNotFound', async () => {
    assert.equal(await NetMessageBufferSend(null, 'NOBODY', null, 'hi', 4), NERR.NERR_NameNotFound);
  });

  test('NetMessageNameAdd and NetMessageNameDel return the original error numbers', async () => {
    assert.equal(await NetMessageNameAdd(null, 'ALICE'), NERR.NERR_AlreadyExists);
    assert.equal(await NetMessageNameAdd(null, 'LIBHOST'), NERR.NERR_AlreadyExists);
    assert.equal(await NetMessageNameAdd(null, 'bad?name'), NERR.ERROR_INVALID_PARAMETER);
    assert.equal(await NetMessageNameDel(null, 'LIBHOST'), NERR.NERR_DelComputerName);
    assert.equal(await NetMessageNameDel(null, 'NEVERADDED'), NERR.NERR_NotLocalName);
    assert.equal(await NetMessageNameAdd(null, 'TEMP'), 0);
    assert.equal(await NetMessageNameDel(null, 'temp'), 0);
  });

  test('NetMessageNameAdd past "max aliases" is NERR_TooManyNames', async () => {
    const added: string[] = [];
    let status = 0;
    for (let i = 0; i < 20 && status === 0; i++) {
      status = await NetMessageNameAdd(null, `FILL${i}`);
      if (status === 0) added.push(`FILL${i}`);
    }
    assert.equal(status, NERR.NERR_TooManyNames);
    assert.equal(added.length, 8 - 1, 'ALICE plus seven more fill the eight');
    for (const name of added) assert.equal(await NetMessageNameDel(null, name), 0);
  });

  test('NetMessageNameGetInfo fills MSG_INFO_0 and MSG_INFO_1, and refuses other levels', async () => {
    const info: Ref<MSG_INFO_0 | MSG_INFO_1 | null> = { value: null };
    assert.equal(await NetMessageNameGetInfo(null, 'alice', 0, info), 0);
    assert.deepEqual(info.value, { msgi0_name: 'ALICE' });
    assert.equal(await NetMessageNameGetInfo(null, 'alice', 1, info), 0);
    assert.deepEqual(info.value, { msgi1_name: 'ALICE', msgi1_forward_flag: 0, msgi1_forward: null });
    assert.equal(await NetMessageNameGetInfo(null, 'alice', 2, info), NERR.ERROR_INVALID_LEVEL);
    assert.equal(info.value, null);
    assert.equal(await NetMessageNameGetInfo(null, 'NOBODY', 0, info), NERR.NERR_NotLocalName);
  });

  test('NetMessageNameEnum lists every alias with MAX_PREFERRED_LENGTH', async () => {
    const buf: Ref<MSG_INFO_0[] | MSG_INFO_1[] | null> = { value: null };
    const read = { value: -1 };
    const total = { value: -1 };
    const resume = { value: 0 };
    assert.equal(await NetMessageNameEnum(null, 0, buf, MAX_PREFERRED_LENGTH, read, total, resume), 0);
    const names = (buf.value as MSG_INFO_0[]).map((e) => e.msgi0_name);
    assert.equal(names[0], 'LIBHOST');
    assert.ok(names.includes('ALICE'));
    assert.equal(read.value, names.length);
    assert.equal(total.value, names.length);
    assert.equal(resume.value, 0);
    assert.equal(await NetMessageNameEnum(null, 3, buf, MAX_PREFERRED_LENGTH, read, total, null), NERR.ERROR_INVALID_LEVEL);
  });

  test('NetMessageNameEnum pages by prefmaxlen with ERROR_MORE_DATA and the resume handle', async () => {
    for (const name of ['PAGE1', 'PAGE2', 'PAGE3']) assert.equal(await NetMessageNameAdd(null, name), 0);
    const seen: string[] = [];
    const resume = { value: 0 };
    let status: number = NERR.ERROR_MORE_DATA;
    let calls = 0;
    while (status === NERR.ERROR_MORE_DATA && calls++ < 50) {
      const buf: Ref<MSG_INFO_0[] | MSG_INFO_1[] | null> = { value: null };
      const read = { value: 0 };
      const total = { value: 0 };
      // 40 bytes: one MSG_INFO_1 entry (24 bytes + the UTF-16 name) per call
      status = await NetMessageNameEnum(null, 1, buf, 40, read, total, resume);
      assert.ok(status === 0 || status === NERR.ERROR_MORE_DATA, `status ${status}`);
      assert.equal(read.value, 1);
      seen.push(...(buf.value as MSG_INFO_1[]).map((e) => e.msgi1_name));
    }
    const all: Ref<MSG_INFO_0[] | MSG_INFO_1[] | null> = { value: null };
    await NetMessageNameEnum(null, 1, all, MAX_PREFERRED_LENGTH, { value: 0 }, { value: 0 }, null);
    assert.deepEqual(seen, (all.value as MSG_INFO_1[]).map((e) => e.msgi1_name));
    assert.equal(resume.value, 0, 'the handle is reset once the list is complete');
  });

  test('connect() offers the idiomatic API and throws NetApiError with the status', async () => {
    const client = await connect();
    try {
      const sent = await client.send({ to: 'alice', text: 'idiomatic' });
      assert.equal(sent.delivered, 'local');
      assert.deepEqual(await client.names.get('alice'), { name: 'ALICE', kind: 'added' });
      await assert.rejects(client.send({ to: 'NOBODY', text: 'x' }), (error: unknown) => {
        assert.ok(error instanceof NetApiError);
        assert.equal(error.status, 2273);
        assert.equal(error.statusName, 'NERR_NameNotFound');
        return true;
      });
      const status = await client.status();
      assert.equal(status.computerName, 'LIBHOST');
    } finally {
      await client.close();
    }
  });

  test('the library reports NERR_MsgNotStarted when no daemon serves the data dir', async () => {
    const { dir, cleanup: done } = await tempDataDir();
    const saved = process.env.NETSEND_DATA_DIR;
    process.env.NETSEND_DATA_DIR = dir;
    try {
      assert.equal(await NetMessageBufferSend(null, 'ALICE', null, 'hi', 4), NERR.NERR_MsgNotStarted);
      await assert.rejects(connect({ dataDir: dir }), (e: unknown) => e instanceof NetApiError && e.status === 2284);
    } finally {
      process.env.NETSEND_DATA_DIR = saved;
      await done();
    }
  });
});
