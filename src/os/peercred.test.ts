/** Kernel peer credentials (peercred.ts): the native addon is found from where this module runs, and names this process. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { peerCredentials, peerCredentialsAvailable } from './peercred.js';

/** The package root, found by its package.json rather than by counting folders as peercred.ts does. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package root above this test');
    dir = parent;
  }
  return dir;
}

const built = existsSync(join(packageRoot(), 'build', 'Release', 'peercred.node'));

test('with the addon built at the package root, the kernel names this process at the other end of a Unix socket', { skip: built ? false : 'the addon is not built (build/Release/peercred.node)' }, async () => {
  assert.equal(peerCredentialsAvailable(), true, 'the addon loads from the compiled module\'s place');
  const dir = mkdtempSync(join(tmpdir(), 'ns-peercred-'));
  const server = createServer();
  try {
    const path = join(dir, 'control.sock');
    server.listen(path);
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = createConnection(path);
    const [socket] = await accepted;
    try {
      assert.deepEqual(peerCredentials(socket), {
        pid: process.platform === 'linux' ? process.pid : null,
        uid: process.getuid?.(),
        gid: process.getgid?.(),
      });
    } finally {
      client.destroy();
      socket.destroy();
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
