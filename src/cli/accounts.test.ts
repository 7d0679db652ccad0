/** user, group, audit, host and web, run through runNetsend against a fake daemon: what the user sees. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditRecord, DaemonStatus, UserSummary } from '../lib/client.js';
import { NetApiError } from '../messenger/errors.js';
import { classicDateTime } from '../messenger/message.js';
import { runCli } from './harness.test.helper.js';

const local = (ms: number) => classicDateTime(new Date(ms));

const accounts: UserSummary[] = [
  { name: 'alice', groups: ['staff', 'admins'], tokens: 2, hasPassword: true },
  { name: 'bob', groups: ['staff'], tokens: 0, hasPassword: false },
  { name: 'carol', groups: [], tokens: 0, hasPassword: true },
];

test('user list prints one line an account; --json prints the list', async () => {
  const users = { list: async () => accounts };
  const run = await runCli(['user', 'list'], { client: { users } });
  assert.equal(run.code, 0);
  assert.equal(
    run.stdout,
    'alice  groups: staff, admins  password: yes  tokens: 2\nbob  groups: staff  password: no  tokens: 0\ncarol  groups: -  password: yes  tokens: 0\n',
  );
  assert.deepEqual(JSON.parse((await runCli(['user', '--json'], { client: { users } })).stdout), accounts);
});

test('user add reads the password from standard input; an empty one is a usage error', async () => {
  const added: unknown[] = [];
  const users = { add: async (user: string, password: string | null, groups: string[] = []) => (added.push([user, password, groups]), { user, groups }) };
  const run = await runCli(['user', 'add', 'dave', '--group', 'staff'], { client: { users }, input: 'secret\n' });
  assert.deepEqual([run.code, run.stdout], [0, 'The command completed successfully.\n']);
  assert.deepEqual(added, [['dave', 'secret', ['staff']]]);
  const empty = await runCli(['user', 'add', 'erin'], { client: { users }, input: '' });
  assert.deepEqual([empty.code, empty.stderr.split('\n').slice(0, 3)], [2, ['netsend: the password comes on standard input, and must not be empty', 'usage:', '  netsend user list | add NAME [--group G …] [--no-password] | delete NAME | password NAME']]);
  assert.equal(empty.closed, 1);
});

test('user token prints the token alone; user tokens lists credentials or says there are none; revoke --all counts', async () => {
  const users = {
    issueToken: async (user: string) => ({ user, token: 'nst_abc' }),
    credentials: async (user: string) =>
      user === 'bob' ? [] : [{ id: '0123456789ab', kind: 'host key' as const, hostKey: 'SHA256:x', createdAt: '2026-11-25T10:00:00.000Z' }],
    revoke: async (user: string) => ({ user, revoked: 2 }),
  };
  assert.equal((await runCli(['user', 'token', 'alice'], { client: { users } })).stdout, 'nst_abc\n');
  assert.equal((await runCli(['user', 'tokens', 'alice'], { client: { users } })).stdout, `0123456789ab  host key  ${local(Date.parse('2026-11-25T10:00:00.000Z'))}  SHA256:x\n`);
  assert.equal((await runCli(['user', 'tokens', 'bob'], { client: { users } })).stdout, 'bob has no tokens or host keys.\n');
  assert.equal(
    (await runCli(['user', 'revoke', 'alice', '--all'], { client: { users } })).stdout,
    "Revoked 2 of alice's tokens and host keys; alice's open sessions are closed.\n",
  );
});

test('user of an account that is not there reports the daemon status; an unknown action is a usage error', async () => {
  const users = { delete: async () => Promise.reject(new NetApiError('NERR_UserNotFound', 'No account "zed".')) };
  const run = await runCli(['user', 'delete', 'zed'], { client: { users } });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /\(NERR_UserNotFound 2221\)\nNo account "zed"\.\n$/);
  const unknown = await runCli(['user', 'frobnicate', 'zed'], { client: { users } });
  assert.deepEqual([unknown.code, unknown.stderr.split('\n')[0]], [2, 'netsend: unknown user action "frobnicate"']);
});

test('group list gathers the members of each group, sorted; group add changes one membership', async () => {
  const changes: unknown[] = [];
  const users = {
    list: async () => accounts,
    setGroups: async (user: string, change: { add?: string[]; remove?: string[] }) => (changes.push([user, change]), { user, groups: ['staff'] }),
  };
  assert.equal((await runCli(['group'], { client: { users } })).stdout, 'admins: alice\nstaff: alice, bob\n');
  assert.deepEqual(JSON.parse((await runCli(['group', 'list', '--json'], { client: { users } })).stdout), [{ group: 'admins', members: ['alice'] }, { group: 'staff', members: ['alice', 'bob'] }]);
  const none = { list: async () => [] };
  assert.deepEqual([(await runCli(['group'], { client: { users: none } })).stdout, (await runCli(['group', 'list', '--json'], { client: { users: none } })).stdout], ['There are no entries in the list.\n', '[]\n']);
  assert.deepEqual([(await runCli(['user'], { client: { users: none } })).stdout, (await runCli(['user', 'list', '--json'], { client: { users: none } })).stdout], ['There are no entries in the list.\n', '[]\n']);
  const add = await runCli(['group', 'add', 'staff', 'carol'], { client: { users } });
  assert.deepEqual([add.code, add.stdout], [0, 'The command completed successfully.\n']);
  assert.deepEqual(changes, [['carol', { add: ['staff'] }]]);
});

test('audit --limit N pages through the log and prints the newest N', async () => {
  const record = (id: number): AuditRecord => ({ id, at: Date.UTC(2026, 10, 25, 10, 0, id), event: 'remote-call', principal: 'alice', source: id === 3 ? '10.0.0.5:4500' : null, detail: `call ${id}`, status: 0 });
  const pages = new Map([[0, [record(1), record(2)]], [2, [record(3)]]]);
  const audit = { list: async ({ afterId = 0 } = {}) => pages.get(afterId) ?? [] };
  const run = await runCli(['audit', '--limit', '2'], { client: { audit } });
  assert.equal(run.code, 0);
  assert.equal(
    run.stdout,
    `${local(Date.UTC(2026, 10, 25, 10, 0, 2))}  remote-call  alice  call 2  status 0\n${local(Date.UTC(2026, 10, 25, 10, 0, 3))}  remote-call  alice from 10.0.0.5:4500  call 3  status 0\n`,
  );
  const json = await runCli(['audit', '--limit', '1', '--json'], { client: { audit } });
  assert.deepEqual(JSON.parse(json.stdout), { ...record(3), at: '2026-11-25T10:00:03.000Z' }, 'JSON times are ISO 8601');
  assert.equal((await runCli(['audit'], { client: { audit: { list: async () => [] } } })).stdout, 'There are no entries in the list.\n');
});

test('host key prints the name and key; with the secure channel off, ERROR_NOT_SUPPORTED (exit 1)', async () => {
  const status: DaemonStatus = { computerName: 'TESTHOST', workgroup: 'WORKGROUP', pid: 1, dataDir: '/d', startedAt: '2026-11-25T10:00:00.000Z', aliases: 2, role: 'standalone server' };
  const on = await runCli(['host', 'key'], { client: { status: async () => ({ ...status, hostKey: 'SHA256:abc' }) } });
  assert.deepEqual([on.code, on.stdout], [0, 'TESTHOST SHA256:abc\n']);
  const off = await runCli(['host', 'key'], { client: { status: async () => status } });
  assert.deepEqual([off.code, off.stderr], [1, 'The request is not supported. (ERROR_NOT_SUPPORTED 50)\nThe secure channel is off on this daemon (secure port = 0).\n']);
});

test('host trust pins a key in the data dir\'s known-hosts, without a daemon', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-cli-'));
  try {
    const key = `SHA256:${'A'.repeat(43)}`;
    const run = await runCli(['host', 'trust', 'far:4500', key, '--data-dir', dir]);
    assert.equal(run.code, 0);
    assert.deepEqual(run.connects, []);
    assert.match(run.stdout, new RegExp(`^far:4500 ${key} added to ${dir}/.+\n$`));
    assert.equal(await readFile(run.stdout.trim().split(' added to ')[1] ?? '', 'utf8'), `far:4500 ${key}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('web url prints the one-time login URL', async () => {
  const run = await runCli(['web', 'url'], { client: { web: { url: async () => ({ url: 'http://127.0.0.1:8080/login#t' }) } } });
  assert.deepEqual([run.code, run.stdout], [0, 'http://127.0.0.1:8080/login#t\n']);
});
