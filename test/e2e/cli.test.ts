import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/lib/client.js';
import { DaemonProcess, NETSEND_BIN, SENDNETMSG_BIN, run, runCommand, tempDataDir } from '../helpers/daemon.js';

const USER = process.env.USER ?? 'root';

describe('netsend CLI against a running daemon', () => {
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    daemon = await DaemonProcess.start(temp.dir);
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  test('netsend name lists the computer name and the logged-on user, NET NAME style', async () => {
    const result = await daemon.cli(['name']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], 'Name');
    assert.ok(lines.includes('TESTHOST'));
    assert.ok(lines.includes(USER.toUpperCase()), `expected ${USER.toUpperCase()} in ${result.stdout}`);
    assert.equal(lines.at(-1), 'The command completed successfully.');
  });

  test('name /add, --add and /delete change the alias table; names are kept upper-case', async () => {
    assert.equal((await daemon.cli(['name', 'alice', '/add'])).code, 0);
    assert.equal((await daemon.cli(['name', 'Carol', '--add'])).code, 0);
    let listed = JSON.parse((await daemon.cli(['name', '--json'])).stdout) as Array<{ name: string; kind: string }>;
    assert.deepEqual(listed.filter((a) => a.kind === 'added').map((a) => a.name), ['ALICE', 'CAROL']);
    assert.equal((await daemon.cli(['name', 'CAROL', '/DELETE'])).code, 0);
    listed = JSON.parse((await daemon.cli(['name', '--json'])).stdout) as Array<{ name: string; kind: string }>;
    assert.deepEqual(listed.filter((a) => a.kind === 'added').map((a) => a.name), ['ALICE']);
  });

  test('adding an existing alias fails with NERR_AlreadyExists and exit code 1', async () => {
    const result = await daemon.cli(['name', 'ALICE', '/add']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.split('\n')[0], 'This message alias already exists locally. (NERR_AlreadyExists 2276)');
  });

  test('deleting the computer name is refused with NERR_DelComputerName', async () => {
    const result = await daemon.cli(['name', 'testhost', '/delete', '--json']);
    assert.equal(result.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(result.stdout)), ['status', 'name', 'message']);
    assert.equal(JSON.parse(result.stdout).status, 2278);
  });

  test('a 16-character or ill-formed name is ERROR_INVALID_PARAMETER', async () => {
    for (const bad of ['ABCDEFGHIJKLMNOP', 'A*B', 'x/y']) {
      const result = await daemon.cli(['name', bad, '/add']);
      assert.equal(result.code, 1, bad);
      assert.match(result.stderr, /\(ERROR_INVALID_PARAMETER 87\)/);
    }
  });

  test('send from arguments and from stdin lands in the inbox, shown the classic way', async () => {
    const first = await daemon.cli(['send', 'ALICE', 'lunch', 'is', 'here']);
    assert.equal(first.code, 0, first.stderr);
    const firstId = /^The message was successfully sent to ALICE\.\nIts id is (\d+): `netsend receipt \1` tells what becomes of it\.\n$/.exec(first.stdout)?.[1];
    assert.ok(firstId !== undefined, first.stdout);
    const second = await daemon.cli(['send', 'alice', '--from', 'BOB'], { input: 'from stdin\nsecond line\n' });
    assert.equal(second.code, 0, second.stderr);

    const inbox = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const mine = inbox.filter((m) => m.to === 'ALICE').slice(-2);
    assert.deepEqual(
      mine.map(({ from, to, text, via }) => ({ from, to, text, via })),
      [
        { from: 'TESTHOST', to: 'ALICE', text: 'lunch is here', via: 'local' },
        { from: 'BOB', to: 'ALICE', text: 'from stdin\nsecond line', via: 'local' },
      ],
    );
    assert.equal(String((mine[0] as { id: number }).id), firstId, 'the id send printed is the one ack and receipt take');
    for (const m of mine) {
      assert.deepEqual(Object.keys(m), ['id', 'from', 'to', 'text', 'receivedAt', 'via', 'verified', 'priority', 'expiresAt', 'senderUser', 'provenance']);
      assert.equal(m.provenance, `verified: sent by the local account ${userInfo().username}`, 'who really sent it, whatever "from" says');
      assert.ok(!Number.isNaN(Date.parse(m.receivedAt)));
    }
    const human = (await daemon.cli(['inbox'])).stdout;
    const note = `\\(verified: sent by the local account ${userInfo().username}\\)`;
    const stdinId = (mine[1] as { id: number }).id;
    assert.match(human, new RegExp(`Message from BOB to ALICE on \\d{1,2}/\\d{1,2}/\\d{4} \\d{1,2}:\\d{2}:\\d{2} [AP]M  \\[id ${stdinId}\\]\n${note}\n\nfrom stdin\nsecond line\n`));
    await daemon.waitFor(() => daemon.stdout.includes('second line'), 5000, 'the message on the daemon terminal');
    assert.match(daemon.stdout, new RegExp(`Message from TESTHOST to ALICE on .+  \\[id \\d+\\]\n${note}\n\nlunch is here\n`));
  });

  test('inbox --limit shows only the newest messages', async () => {
    const all = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n');
    const last = (await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout.trim().split('\n');
    assert.deepEqual(last, all.slice(-1));
  });

  test('send to a name nobody holds says NERR_NameNotFound in words, or as JSON', async () => {
    const human = await daemon.cli(['send', 'NOBODY', 'hi']);
    assert.equal(human.code, 1);
    assert.equal(human.stderr.split('\n')[0], 'The message alias could not be found on the network. (NERR_NameNotFound 2273)');
    const json = await daemon.cli(['send', 'NOBODY', 'hi', '--json']);
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout);
    assert.equal(body.status, 2273);
    assert.equal(body.name, 'NERR_NameNotFound');
    assert.match(body.message, /^The message alias could not be found on the network\./);
  });

  test('sendnetmsg srcName dstName message sends like the classic sample', async () => {
    const ok = await run(SENDNETMSG_BIN, ['CLASSIC', 'ALICE', 'from', 'the', 'sample'], { env: { NETSEND_DATA_DIR: daemon.dataDir } });
    assert.equal(ok.code, 0, ok.stderr);
    const inbox = (await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout;
    assert.deepEqual(
      (({ from, to, text }) => ({ from, to, text }))(JSON.parse(inbox)),
      { from: 'CLASSIC', to: 'ALICE', text: 'from the sample' },
    );
    const missing = await run(SENDNETMSG_BIN, ['BOB', 'NOBODY', 'hi', '--data-dir', daemon.dataDir]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: NERR_NameNotFound\n');
  });

  test("usage errors exit 2 with the command's usage", async () => {
    for (const args of [['send'], ['bogus'], ['name', 'A', '/add', '/delete'], ['send', 'A', '--nope', 'x']]) {
      const result = await daemon.cli(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, args[0] === 'bogus' ? /usage: netsend <command>/ : new RegExp(`usage:\\n {2}netsend ${args[0]} `));
    }
    const classic = await run(SENDNETMSG_BIN, ['ONLYONE']);
    assert.equal(classic.code, 2);
    assert.match(classic.stderr, /usage: sendnetmsg .*srcName dstName message/);
  });

  test('--priority takes ntfy\'s numbers and words too (5, max, min, default), as the HTTP endpoint does', async () => {
    for (const [given, stored] of [['5', 'urgent'], ['max', 'urgent'], ['min', 'low'], ['default', 'normal'], ['4', 'high'], ['low', 'low']] as const) {
      const sent = await daemon.cli(['send', 'ALICE', `priority ${given}`, '--priority', given, '--json']);
      assert.equal(sent.code, 0, sent.stderr);
      const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout) as { text: string; priority: string };
      assert.deepEqual([last.text, last.priority], [`priority ${given}`, stored]);
    }
    const wrong = await daemon.cli(['send', 'ALICE', 'x', '--priority', '6']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--priority takes low, normal, high, urgent, or as ntfy: 1-5, min, default, max/);
  });

  test('a blank message is refused with a clear error; nothing pops up', async () => {
    const before = (await daemon.cli(['inbox', '--json'])).stdout;
    for (const [args, input] of [[['send', 'ALICE', ''], undefined], [['send', 'ALICE', '   '], undefined], [['send', 'ALICE'], '']] as const) {
      const refused = await daemon.cli([...args], input === undefined ? {} : { input });
      assert.equal(refused.code, 1, JSON.stringify(args));
      assert.equal(refused.stderr.split('\n')[0], 'The parameter is incorrect. (ERROR_INVALID_PARAMETER 87)');
      assert.match(refused.stderr, /The message is empty \(or only spaces\): there is nothing to send/);
    }
    assert.equal((await daemon.cli(['inbox', '--json'])).stdout, before);
  });

  test('netsend --version prints the version; a reader that goes away (inbox | head) ends the command quietly', async () => {
    const version = await daemon.cli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^netsend \d+\.\d+\.\d+\n$/);
    const client = await connect({ dataDir: daemon.dataDir });
    for (let i = 0; i < 300; i++) await client.send({ to: 'ALICE', text: `line ${i} ${'x'.repeat(200)}` });
    await client.close();
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${NETSEND_BIN}" inbox --data-dir "${daemon.dataDir}" | head -1 > /dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.equal(piped.stderr, '', 'no stack trace');
    assert.equal(piped.stdout.trim(), '0', 'exit status 0');
  });

  test('netsend status shows what the daemon serves now: its listeners, aliases and hub', async () => {
    const result = await daemon.cli(['status', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout) as { computerName: string; listeners: Array<{ transport: string; endpoints: string[] }>; aliases: Array<{ name: string }>; hub: { state: string } };
    assert.equal(status.computerName, 'TESTHOST');
    const control = status.listeners.find((l) => l.transport === 'control');
    assert.ok(control?.endpoints[0]?.endsWith('control.sock'), JSON.stringify(status.listeners));
    assert.ok(status.aliases.some((a) => a.name === 'TESTHOST'));
    assert.equal(status.hub.state, 'off');
    const text = await daemon.cli(['status']);
    assert.match(text.stdout, /^TESTHOST in workgroup \S+ \(standalone server\), pid \d+, started /);
    assert.match(text.stdout, /^control +\/.+$/m);
    assert.match(text.stdout, /^hub: off$/m);
  });

  test('a second daemon on the same data dir refuses to start', async () => {
    const second = await run(NETSEND_BIN, ['serve', '--data-dir', daemon.dataDir], { timeoutMs: 10_000 });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /The Messenger service is already started\. \(NERR_MsgAlreadyStarted 2271\)/);
    assert.match(second.stderr, new RegExp(`Another netsend daemon is running on ${daemon.dataDir}`));
    assert.equal((await daemon.cli(['name'])).code, 0, 'the first daemon still serves');
  });
});

describe('netsend daemon lifecycle', () => {
  test('without a daemon, commands fail with NERR_MsgNotStarted', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const result = await run(NETSEND_BIN, ['name', '--data-dir', dir]);
      assert.equal(result.code, 1);
      assert.equal(result.stderr.split('\n')[0], 'The Messenger service has not been started. (NERR_MsgNotStarted 2284)');
    } finally {
      await cleanup();
    }
  });

  test('SIGINT stops the daemon cleanly; added aliases and messages survive the restart', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      let daemon = await DaemonProcess.start(dir);
      assert.equal((await daemon.cli(['name', 'KEEPER', '/add'])).code, 0);
      assert.equal((await daemon.cli(['send', 'KEEPER', 'still here'])).code, 0);
      const exit = await daemon.stop('SIGINT');
      assert.equal(exit.code, 0, daemon.stderr);
      assert.match(daemon.stderr, /Messenger service stopped/);
      assert.equal(existsSync(join(dir, 'control.sock')), false, 'the control socket is removed');

      daemon = await DaemonProcess.start(dir);
      try {
        const names = JSON.parse((await daemon.cli(['name', '--json'])).stdout) as Array<{ name: string }>;
        assert.ok(names.some((a) => a.name === 'KEEPER'));
        assert.match((await daemon.cli(['inbox'])).stdout, /still here/);
      } finally {
        await daemon.stop();
      }
    } finally {
      await cleanup();
    }
  });

  test('an unknown key in netsend.conf stops the daemon with a message naming it', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      await writeFile(join(dir, 'netsend.conf'), '[global]\n  workgroup = OFFICE\n  mesage command = /bin/true\n');
      const result = await run(NETSEND_BIN, ['serve', '--data-dir', dir]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /netsend\.conf:3: unknown setting "mesagecommand"/);
    } finally {
      await cleanup();
    }
  });

  test("a user whose home cannot be written is told how to choose a data dir, not given an internal error", { skip: process.getuid?.() === 0 ? false : 'needs root to run the daemon as nobody' }, async (t) => {
    // as a service account: nobody, whose home is /nonexistent, with no data dir chosen
    const env = { ...process.env, HOME: '/nonexistent', XDG_DATA_HOME: '', NETSEND_DATA_DIR: '' };
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath];
    if ((await runCommand([...asNobody, '-e', `require('fs').accessSync(${JSON.stringify(NETSEND_BIN)})`], { env })).code !== 0) {
      t.skip('nobody cannot read this checkout');
      return;
    }
    const result = await runCommand([...asNobody, NETSEND_BIN, 'serve', '--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0'], { env });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      "netsend: cannot create the data dir /nonexistent/.local/share/netsend (EACCES): choose a writable one with --data-dir DIR or NETSEND_DATA_DIR (by default a user's daemon keeps its data in $XDG_DATA_HOME/netsend, else ~/.local/share/netsend)\n",
    );
  });

  test('the message command gets the text in a file and on stdin, names in the environment, no shell', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const out = join(dir, 'hook-out.txt');
      // The hook itself is a shell script the administrator wrote; the sender's text never reaches its command line.
      const script = `cat %s > ${out}.file; cat > ${out}.stdin; printf "%%s|%%s|%%s" "$NETSEND_FROM" "$NETSEND_TO" "%f" > ${out}.names`;
      await writeFile(join(dir, 'netsend.conf'), `[global]\nmessage command = /bin/sh -c '${script}'\n`);
      const daemon = await DaemonProcess.start(dir);
      try {
        const text = 'hello $(touch PWNED) `id` "quoted"';
        assert.equal((await daemon.cli(['send', 'TESTHOST', '--from', "O'NEIL", text])).code, 0);
        await daemon.waitFor(() => existsSync(`${out}.names`) && statSync(`${out}.names`).size > 0, 5000, 'the message command');
        assert.equal(await readFile(`${out}.file`, 'utf8'), text);
        assert.equal(await readFile(`${out}.stdin`, 'utf8'), text);
        assert.equal(await readFile(`${out}.names`, 'utf8'), "O'NEIL|TESTHOST|O_NEIL");
        assert.equal(existsSync(join(dir, 'PWNED')), false);
        assert.equal(existsSync('PWNED'), false);
      } finally {
        await daemon.stop();
      }
    } finally {
      await cleanup();
    }
  });
});
