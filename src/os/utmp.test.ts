/** Logged-on users from utmp bytes (users.ts), on hand-built glibc 384-byte records. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionsFromUtmp, ttysFromUtmp, usersFromUtmp, utmpUsers } from './utmp.js';

const RECORD = 384;
const USER_PROCESS = 7;
const DEAD_PROCESS = 8;
const LOGIN_PROCESS = 6;
const BOOT_TIME = 2;
const RUN_LVL = 1;

/** One utmp record: ut_type (int16 LE) at 0, ut_user (32 bytes, NUL-padded) at 44, the rest filled. */
function record(type: number, user: string | Uint8Array, fill = 0): Uint8Array {
  const bytes = new Uint8Array(RECORD).fill(fill);
  new DataView(bytes.buffer).setInt16(0, type, true);
  bytes.fill(0, 44, 44 + 32);
  bytes.set(typeof user === 'string' ? Buffer.from(user, 'utf8') : user, 44);
  return bytes;
}

const file = (...records: Uint8Array[]) => new Uint8Array(Buffer.concat(records));

/** A record with ut_line (32 bytes, NUL-padded, at 8) set too. */
function login(user: string, line: string | Uint8Array, type = USER_PROCESS): Uint8Array {
  const bytes = record(type, user, 0x41);
  bytes.fill(0, 8, 8 + 32);
  bytes.set(typeof line === 'string' ? Buffer.from(line, 'utf8') : line, 8);
  return bytes;
}

test('usersFromUtmp returns the name of each USER_PROCESS record once, in order of first login', () => {
  const utmp = file(record(USER_PROCESS, 'alice'), record(USER_PROCESS, 'bob'), record(USER_PROCESS, 'alice'), record(USER_PROCESS, 'carol'));
  assert.deepEqual(usersFromUtmp(utmp), ['alice', 'bob', 'carol']);
});

test('usersFromUtmp ignores records of other types: dead, login, boot and run level', () => {
  const utmp = file(
    record(BOOT_TIME, 'reboot'),
    record(RUN_LVL, 'runlevel'),
    record(LOGIN_PROCESS, 'LOGIN'),
    record(DEAD_PROCESS, 'gone'),
    record(USER_PROCESS, 'here'),
    record(0x0107, 'notseven'), // 263: the low byte alone is 7, the int16 is not
    record(-1, 'negative'),
  );
  assert.deepEqual(usersFromUtmp(utmp), ['here']);
});

test('usersFromUtmp ignores a trailing partial record, even one that looks like a user', () => {
  const partial = record(USER_PROCESS, 'dave').subarray(0, 200);
  assert.deepEqual(usersFromUtmp(file(record(USER_PROCESS, 'alice'), partial)), ['alice']);
  assert.deepEqual(usersFromUtmp(record(USER_PROCESS, 'dave').subarray(0, RECORD - 1)), []);
  assert.deepEqual(usersFromUtmp(new Uint8Array(0)), []);
});

test('usersFromUtmp reads a 32-byte name without NUL whole, stops at the first NUL, and skips an empty name', () => {
  const long = 'a'.repeat(30) + 'yz';
  const utmp = file(
    record(USER_PROCESS, long, 0x55),
    record(USER_PROCESS, new Uint8Array([0x65, 0x76, 0x65, 0x00, 0x78, 0x78])),
    record(USER_PROCESS, ''),
    record(USER_PROCESS, 'jörg'),
  );
  assert.deepEqual(usersFromUtmp(utmp), [long, 'eve', 'jörg']);
});

test('usersFromUtmp reads records relative to the view it is given, not its underlying buffer', () => {
  const backing = new Uint8Array(3 + 2 * RECORD);
  backing.set(file(record(USER_PROCESS, 'alice'), record(USER_PROCESS, 'bob')), 3);
  assert.deepEqual(usersFromUtmp(backing.subarray(3)), ['alice', 'bob']);
});

test('usersFromUtmp reads at most 4096 records', () => {
  const records = Array.from({ length: 4096 }, () => record(DEAD_PROCESS, 'x'));
  assert.deepEqual(usersFromUtmp(file(...records, record(USER_PROCESS, 'late'))), []);
  records[4095] = record(USER_PROCESS, 'last');
  assert.deepEqual(usersFromUtmp(file(...records)), ['last']);
});

test('usersFromUtmp never throws on random bytes and returns distinct non-empty names without NUL', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3 * RECORD + 50 }), fc.nat(7), (bytes, offset) => {
      const view = bytes.subarray(Math.min(offset, bytes.length));
      const users = usersFromUtmp(view);
      assert.equal(new Set(users).size, users.length);
      for (const name of users) assert.ok(name.length > 0 && !name.includes('\u0000'), JSON.stringify(name));
    }),
    { numRuns: 1000 },
  );
});

test('usersFromUtmp on random records of any type gives exactly the distinct USER_PROCESS names', () => {
  const anyRecord = fc.record({
    type: fc.oneof(fc.constantFrom(USER_PROCESS, DEAD_PROCESS, LOGIN_PROCESS, BOOT_TIME), fc.integer({ min: -32768, max: 32767 })),
    user: fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._-'), maxLength: 32 }),
    fill: fc.nat(255),
  });
  fc.assert(
    fc.property(fc.array(anyRecord, { maxLength: 12 }), (records) => {
      const expected = [...new Set(records.filter((r) => r.type === USER_PROCESS && r.user !== '').map((r) => r.user))];
      assert.deepEqual(usersFromUtmp(file(...records.map((r) => record(r.type, r.user, r.fill)))), expected);
    }),
    { numRuns: 500 },
  );
});

test('sessionsFromUtmp pairs each USER_PROCESS user with its terminal line, every login kept', () => {
  const utmp = file(login('alice', 'pts/0'), login('bob', 'tty1'), login('gone', 'pts/7', DEAD_PROCESS), login('alice', 'pts/3'), login('', 'pts/9'));
  assert.deepEqual(sessionsFromUtmp(utmp), [
    { user: 'alice', line: 'pts/0' },
    { user: 'bob', line: 'tty1' },
    { user: 'alice', line: 'pts/3' },
  ]);
  const full = 'p'.repeat(32); // a 32-byte line has no NUL: read whole, not into ut_id/ut_user
  assert.deepEqual(sessionsFromUtmp(login('carol', full)), [{ user: 'carol', line: full }]);
});

test('ttysFromUtmp finds the /dev ttys of the user an alias names, case-insensitively, each once', () => {
  const utmp = file(login('alice', 'pts/0'), login('bob', 'pts/1'), login('Alice', 'tty2'), login('alice', 'pts/0'), login('alice', 'pts/4', DEAD_PROCESS));
  assert.deepEqual(ttysFromUtmp(utmp, 'ALICE'), ['/dev/pts/0', '/dev/tty2']);
  assert.deepEqual(ttysFromUtmp(utmp, 'bob'), ['/dev/pts/1']);
  assert.deepEqual(ttysFromUtmp(utmp, 'CAROL'), []);
});

test('ttysFromUtmp skips lines that are empty or could leave /dev', () => {
  const lines = ['', '../etc/passwd', 'pts/../../etc/shadow', '/etc/passwd', 'pts//1', 'pts/1 x', '.', ':0'];
  const utmp = file(...lines.map((line) => login('alice', line)), login('alice', 'pts/5'));
  assert.deepEqual(ttysFromUtmp(utmp, 'alice'), ['/dev/pts/5']);
});

test('ttysFromUtmp takes only lines that name a terminal: a utmp line of stdout, fd/1, tty or null gets no message', () => {
  const lines = ['stdout', 'fd/1', 'tty', 'null', 'zero', 'sda', 'pts/x', 'pts/1/2', 'ttyS0', 'tty1', 'console', 'pts/12'];
  const utmp = file(...lines.map((line) => login('alice', line)));
  assert.deepEqual(ttysFromUtmp(utmp, 'alice'), ['/dev/ttyS0', '/dev/tty1', '/dev/console', '/dev/pts/12']);
});

test('the logged-on users are read from utmp once for the lookups that come together, and read again once that is old', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'utmp-'));
  const path = join(dir, 'utmp');
  try {
    await writeFile(path, file(record(USER_PROCESS, 'alice')));
    const together = Array.from({ length: 50 }, () => utmpUsers(path, 200));
    assert.equal(new Set(together).size, 1, 'one read shared by all');
    assert.deepEqual(await together[0], ['alice']);
    await writeFile(path, file(record(USER_PROCESS, 'alice'), record(USER_PROCESS, 'bob')));
    assert.deepEqual(await utmpUsers(path, 200), ['alice'], 'a read a moment ago still serves');
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.deepEqual(await utmpUsers(path, 200), ['alice', 'bob'], 'bob logged on since');
    assert.deepEqual(await utmpUsers(join(dir, 'none')), [], 'no utmp: nobody');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
