/**
 * Local callers on a root daemon, as the original's rules have them: anyone may send and add
 * names, but deleting someone else's name and administering accounts need Administrators (root
 * or the daemon's own user). The other user is `nobody`, run with setpriv.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { DaemonProcess, NETSEND_BIN, runCommand, tempDataDir } from '../helpers/daemon.js';

const root = process.getuid?.() === 0;
const setpriv = spawnSync('setpriv', ['--version']).status === 0;

describe('local callers who are not administrators', { skip: root && setpriv ? false : 'needs root and setpriv, to call as another user' }, () => {
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;
  const asNobody = (args: string[]) =>
    runCommand(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, NETSEND_BIN, ...args, '--data-dir', daemon.dataDir]);

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    await chmod(temp.dir, 0o755); // a root daemon serves every local user: they must reach its socket
    daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no']);
    assert.equal((await daemon.cli(['name', 'ROOTS', '/add'])).code, 0);
  });
  after(async () => {
    await daemon?.stop();
    await cleanup?.();
  });

  test('may send, and add and delete their own names', async () => {
    assert.equal((await asNobody(['send', 'ROOTS', 'hello from nobody'])).code, 0);
    assert.equal((await asNobody(['name', 'MINE', '/add'])).code, 0);
    assert.equal((await asNobody(['name', 'MINE', '/delete'])).code, 0);
    const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout);
    assert.equal(last.text, 'hello from nobody');
  });

  test("may not delete a name another user added (status 5), nor administer accounts or read the audit log", async () => {
    const deleted = await asNobody(['name', 'ROOTS', '/delete']);
    assert.equal(deleted.code, 5);
    assert.match(deleted.stderr, /ROOTS belongs to another user; only an administrator may delete it/);
    assert.match((await daemon.cli(['name'])).stdout, /ROOTS/);
    assert.equal((await asNobody(['user', 'list'])).code, 5);
    assert.equal((await asNobody(['audit'])).code, 5);
    const audit = (await daemon.cli(['audit', '--json'])).stdout;
    assert.match(audit, /"event":"refused-call","principal":"uid 65534 \(nobody\)"/);
  });

  test("may set who can message their own names, not other users' names", async () => {
    assert.equal((await asNobody(['name', 'OWNED', '/add'])).code, 0);
    assert.equal((await asNobody(['name', 'OWNED', '--deny', 'subnet:10.0.0.0/8'])).code, 0);
    assert.equal((await asNobody(['name', 'ROOTS', '--legacy', 'none'])).code, 5);
  });

  test("see in the inbox only messages to their own names (and the workgroup), and acknowledge only those", async () => {
    assert.equal((await asNobody(['name', 'NOBODYS', '/add'])).code, 0);
    const forNobody = JSON.parse((await daemon.cli(['send', 'NOBODYS', 'for nobody', '--json'])).stdout) as { id: number };
    const forRoot = JSON.parse((await daemon.cli(['send', 'ROOTS', 'for root only', '--json'])).stdout) as { id: number };
    const seen = (await asNobody(['inbox', '--json'])).stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { text: string }).text);
    assert.deepEqual(seen, ['for nobody']);
    assert.ok((await daemon.cli(['inbox', '--json'])).stdout.includes('for root only'), 'an administrator sees all');
    const notTheirs = await asNobody(['ack', String(forRoot.id)]);
    assert.equal(notTheirs.code, 1);
    assert.match(notTheirs.stderr, /ERROR_NOT_FOUND 1168/);
    assert.equal(JSON.parse((await daemon.cli(['receipt', String(forRoot.id), '--json'])).stdout).state, 'stored', 'not acknowledged by someone else');
    assert.equal((await asNobody(['ack', String(forNobody.id)])).code, 0);
  });

  test("may not take another local account's login name, logged on or not (status 5, audited); their own they may, and may delete it whoever added it", async () => {
    // `daemon` is a system account on every Debian host, with no session here
    const taken = await asNobody(['name', 'daemon', '/add']);
    assert.equal(taken.code, 5);
    assert.match(taken.stderr, /DAEMON is the login name of the local account daemon: only daemon or an administrator may add it/);
    assert.doesNotMatch((await daemon.cli(['name'])).stdout, /^DAEMON$/m);
    assert.match((await daemon.cli(['audit', '--json'])).stdout, /"event":"refused-alias","principal":"uid 65534 \(nobody\)".*names\.add DAEMON/);
    // an administrator may; and the account's own user may delete the alias of its login name
    assert.equal((await daemon.cli(['name', 'NOBODY', '/add'])).code, 0);
    assert.equal((await asNobody(['name', 'NOBODY', '/delete'])).code, 0, 'nobody deletes the alias of its own login name');
    assert.equal((await asNobody(['name', 'nobody', '/add'])).code, 0, 'and adds it back');
  });

  test('may add at most 8 aliases, so that one user cannot fill the table for everyone (NERR_TooManyNames 2277)', async () => {
    let added = 0;
    let refused: Awaited<ReturnType<typeof asNobody>> | undefined;
    for (let i = 0; i < 12 && refused === undefined; i++) {
      const result = await asNobody(['name', `Q${i}`, '/add']);
      if (result.code === 0) added++;
      else refused = result;
    }
    assert.ok(refused, 'a limit was reached');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /NERR_TooManyNames 2277/);
    assert.match(refused.stderr, /You have added 8 aliases, the most one user may/);
    assert.ok(added > 0 && added <= 8, `${added} added before the limit`);
    assert.equal((await daemon.cli(['name', 'ROOTS2', '/add'])).code, 0, 'an administrator is not held to it');
  });
});
