import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The data dir: `--data-dir`, else NETSEND_DATA_DIR, else /var/lib/netsend for root, else the
 * per-user XDG data folder. Daemon and clients that agree on it find each other.
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return flag;
  if (env.NETSEND_DATA_DIR) return env.NETSEND_DATA_DIR;
  if (process.getuid?.() === 0) return '/var/lib/netsend';
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'netsend');
}

/** Files inside a data dir. */
export function dataDirPaths(dataDir: string) {
  return {
    database: join(dataDir, 'netsend.db'),
    config: join(dataDir, 'netsend.conf'),
    controlSocket: join(dataDir, 'control.sock'),
    spool: join(dataDir, 'spool'),
    lmhosts: join(dataDir, 'lmhosts'),
    knownHosts: join(dataDir, 'known-hosts'),
  } as const;
}
