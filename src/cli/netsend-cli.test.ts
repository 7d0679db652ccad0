/** runNetsend's dispatch and its reports: usage errors, help, version, a daemon's failures, --server. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NetApiError } from '../messenger/errors.js';
import { runCli } from './harness.test.helper.js';
import { USAGE, usageOf } from './usage.js';

const USAGE_LINE = 'usage: netsend <command> [options]\n';

test('netsend without a command, or with an unknown one, prints why and the usage line: exit 2, no daemon asked', async () => {
  for (const [argv, why] of [
    [[], 'a command is needed'],
    [['bogus'], 'unknown command "bogus"'],
    [['constructor'], 'unknown command "constructor"'],
  ] as const) {
    const run = await runCli([...argv]);
    assert.deepEqual([run.code, run.stdout, run.stderr], [2, '', `netsend: ${why}\n${USAGE_LINE}`], argv.join(' '));
    assert.equal(run.connects.length, 0);
  }
});

test('a bad option or argument is a usage error (exit 2) before any daemon is asked', async () => {
  const cases: Array<[string[], string]> = [
    [['send', 'A', '--nope', 'x'], `netsend: Unknown option '--nope'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--nope"\n`],
    [['send'], 'netsend: send needs a recipient: netsend send NAME [TEXT …]\n'],
    [['send', 'A', 'x', '--priority', '6'], 'netsend: --priority takes low, normal, high, urgent, or as ntfy: 1-5, min, default, max\n'],
    [['send', '*', 'x', '--wait'], 'netsend: --wait is for one recipient, not a broadcast\n'],
    [['name', 'A', '/add', '/delete'], 'netsend: give /add or /delete, not both\n'],
    [['inbox', '--limit', '0'], 'netsend: --limit takes a whole number\n'],
    [['ack', 'x'], 'netsend: netsend ack ID … (the ids of inbox --json)\n'],
    [['user', 'add'], 'netsend: user add needs a user name\n'],
    [['user', 'frobnicate', 'zed'], 'netsend: unknown user action "frobnicate"\n'],
    [['web', 'url', '--server', 'far'], 'netsend: a web login URL is only given on this host (no --server)\n'],
    [['name', '--token', 't'], 'netsend: --user, --token and --host-key go with --server\n'],
  ];
  for (const [argv, first] of cases) {
    const run = await runCli(argv);
    assert.equal(run.code, 2, argv.join(' '));
    // then the usage of that command, not the generic line: what the person was trying to write
    assert.equal(run.stderr, `${first}${usageOf(argv[0])}\n`, argv.join(' '));
    assert.match(run.stderr, new RegExp(`\\nusage:\\n {2}netsend ${argv[0]} `), argv.join(' '));
    assert.equal(run.stdout, '');
    assert.equal(run.connects.length, 0);
  }
});

test('--version prints the version of package.json; help, --help, -h and COMMAND --help print the usage', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const argv of [['--version'], ['version']]) assert.deepEqual(await runCli(argv), { code: 0, stdout: `netsend ${version}\n`, stderr: '', connects: [], closed: 0 });
  for (const argv of [['help'], ['--help'], ['-h'], ['send', '--help'], ['inbox', '-h'], ['user', '--help']]) {
    const run = await runCli(argv);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, `${USAGE}\n`, ''], argv.join(' '));
  }
  const config = await runCli(['help', 'config']);
  assert.equal(config.code, 0);
  assert.match(config.stdout, /^Settings \(flag > environment > <data dir>\/netsend\.conf \[global\] > default\):\n\n {2}netbios name {2}--netbios-name {2}NETSEND_NETBIOS_NAME {2}default: /);
  // one name a setting, derived from its key, in the file's spelling of values
  assert.match(config.stdout, /\n {2}smb ports {2}--smb-ports {2}NETSEND_SMB_PORTS {2}default: 139\n/);
  assert.match(config.stdout, /\n {2}bind interfaces only {2}--bind-interfaces-only {2}NETSEND_BIND_INTERFACES_ONLY {2}default: yes\n/);
  assert.match(config.stdout, /\n {2}message command {2}--message-command {2}NETSEND_MESSAGE_COMMAND {2}default: ''\n/);
  assert.doesNotMatch(config.stdout, /default: (true|false)\n/);
});

test("a daemon's NetApiError prints its status in words, then the detail, with exit 1; ERROR_ACCESS_DENIED exits 5", async () => {
  const failing = (error: NetApiError) => ({ names: { list: async () => Promise.reject(error) } });
  const taken = await runCli(['name'], { client: failing(new NetApiError('NERR_AlreadyExists', 'ALICE is taken.')) });
  assert.deepEqual([taken.code, taken.stdout, taken.stderr], [1, '', 'This message alias already exists locally. (NERR_AlreadyExists 2276)\nALICE is taken.\n']);
  assert.equal(taken.closed, 1, 'the client is closed after a failure too');

  const denied = await runCli(['name'], { client: failing(new NetApiError('ERROR_ACCESS_DENIED')) });
  assert.deepEqual([denied.code, denied.stderr], [5, 'Access is denied. (ERROR_ACCESS_DENIED 5)\n']);

  // as the control socket hands it over: a number and the daemon's text
  const json = await runCli(['name', '--json'], { client: failing(NetApiError.fromStatus(2273, 'The message alias could not be found on the network. No BOB.')) });
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), { status: 2273, name: 'NERR_NameNotFound', message: 'The message alias could not be found on the network. No BOB.' });
  assert.equal(json.stderr, '');
});

test('a failure that is no NetApiError is reported as NERR_InternalError, exit 1', async () => {
  const run = await runCli(['name'], { client: { names: { list: async () => Promise.reject(new Error('boom')) } } });
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'An internal error occurred. (NERR_InternalError 2140)\nAn internal error occurred: Error: boom\n');
});

test('commands talk to the data dir of --data-dir, else NETSEND_DATA_DIR', async () => {
  const names = { list: async () => [] };
  assert.deepEqual((await runCli(['name', '--data-dir', '/srv/ns'], { client: { names } })).connects, [{ local: { dataDir: '/srv/ns' } }]);
  assert.deepEqual((await runCli(['name'], { client: { names }, env: { NETSEND_DATA_DIR: '/var/ns' } })).connects, [{ local: { dataDir: '/var/ns' } }]);
});

test('--server opens the remote daemon with the account of --user and NETSEND_PASSWORD, or NETSEND_TOKEN', async () => {
  const names = { list: async () => [] };
  const env = { NETSEND_DATA_DIR: '/var/ns', NETSEND_PASSWORD: 'pw' };
  const [withUser] = (await runCli(['name', '--server', 'far:4500', '--user', 'alice'], { client: { names }, env })).connects;
  assert.ok(withUser !== undefined && 'remote' in withUser);
  const { onPinned, ...asked } = withUser.remote;
  assert.deepEqual(asked, { server: 'far:4500', dataDir: '/var/ns', user: 'alice', password: 'pw', hostKey: false });
  assert.equal(typeof onPinned, 'function');

  const [withToken] = (await runCli(['name', '--server', 'far'], { client: { names }, env: { NETSEND_DATA_DIR: '/var/ns', NETSEND_TOKEN: 'tok' } })).connects;
  assert.ok(withToken !== undefined && 'remote' in withToken);
  assert.deepEqual([withToken.remote.token, withToken.remote.user, withToken.remote.hostKey], ['tok', undefined, false]);
});
