import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export interface PeerCredentials {
  readonly pid: number | null;
  readonly uid: number;
  readonly gid: number;
}

type Addon = { peerCredentials(fd: number): PeerCredentials };

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon === undefined) {
    try {
      // built by `npm install` from native/peercred.c (binding.gyp at the package root); this
      // file runs as dist/src/os/peercred.js, three folders below that root
      addon = createRequire(import.meta.url)('../../../build/Release/peercred.node') as Addon;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** Whether the kernel can tell this process who is at the other end of a Unix socket. */
export function peerCredentialsAvailable(): boolean {
  return loadAddon() !== null;
}

/**
 * The uid, gid and pid of the process that connected a Unix domain socket, from the kernel
 * (SO_PEERCRED / getpeereid): what the caller cannot forge. Null where that is unavailable.
 */
export function peerCredentials(socket: Socket): PeerCredentials | null {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  const native = loadAddon();
  if (native === null || typeof fd !== 'number' || fd < 0) return null;
  try {
    return native.peerCredentials(fd);
  } catch {
    return null;
  }
}
