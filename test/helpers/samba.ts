import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { waitUntil, type LoopbackNamespace } from './netns.js';

/** Why Samba interop tests cannot run here, or null. */
export function sambaUnavailable(): string | null {
  for (const tool of ['smbd', 'smbclient']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} is not installed (scripts/install-peers.sh installs it)`;
  }
  return null;
}

/**
 * Samba's smbd as the receiving oracle: 127.0.0.1:139 inside a test's own namespace, SMB1
 * allowed (`server min protocol = NT1`, without which it drops every message command), and a
 * `message command` that writes each message to `inbox/`. Runs under `timeout`, stopped by PID.
 */
export class SmbdPeer {
  readonly dir: string;
  readonly inbox: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(dir: string, child: ChildProcess) {
    this.dir = dir;
    this.inbox = join(dir, 'inbox');
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Starts smbd in `ns` on `address`:139 (default 127.0.0.1), with extra `[global]` lines
   * (`dos charset = CP866`); `timeout` ends it after `lifetimeSeconds` if nobody stops it first.
   */
  static async start(
    dir: string,
    ns: LoopbackNamespace,
    netbiosName = 'ORACLE',
    lifetimeSeconds = 120,
    options: { address?: string; globals?: readonly string[] } = {},
  ): Promise<SmbdPeer> {
    const address = options.address ?? '127.0.0.1';
    const globals = (options.globals ?? []).map((line) => `   ${line}\n`).join('');
    await writeSambaConf(dir, `   netbios name = ${netbiosName}\n   workgroup = TESTGRP\n   interfaces = ${address}/8\n   disable netbios = yes\n${globals}`);
    const child = spawn(
      ns.prefix[0] as string,
      [...ns.prefix.slice(1), 'timeout', '-k', '5', String(lifetimeSeconds), 'smbd', '-F', '--no-process-group', '--debug-stdout', '-d', '1', '-l', join(dir, 'logs'), '-s', join(dir, 'smb.conf')],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const peer = new SmbdPeer(dir, child);
    await waitUntil(() => ns.listening(address, 139), 15_000, `smbd to listen on ${address}:139`);
    return peer;
  }

  /** The messages delivered so far. */
  messages(): Promise<Array<{ from: string; text: string }>> {
    return inboxMessages(this.inbox);
  }

  /** SIGTERM to the `timeout` wrapper (which passes it to smbd), then waits. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export interface SambaHostOptions {
  netbiosName: string;
  workgroup?: string;
  /** Extra names nmbd registers (`netbios aliases`). */
  aliases?: readonly string[];
  /** Serve as WINS server (`wins support = yes`). */
  winsSupport?: boolean;
  /** More `[global]` lines, each `key = value` (`dos charset = CP437`, `netbios scope = OTHER`). */
  globals?: readonly string[];
  /** Start smbd beside nmbd (default true); name tests need nmbd alone. */
  smbd?: boolean;
}

/**
 * nmbd and smbd as one host on a test LAN (its namespace's `eth0` only): nmbd registers and
 * defends its names by broadcast, smbd takes SMB1 messages into `inbox/`. Both under `timeout -k 5`,
 * stopped by PID: a daemon that ignores the SIGTERM `timeout` passes on is killed 5 s later, never
 * left running once `timeout` itself is gone. nmbd answers broadcast queries only once its own registration is done (three
 * tries two seconds apart), so `start` waits for that.
 */
export class SambaHost {
  readonly dir: string;
  readonly inbox: string;
  readonly #children: ChildProcess[];

  private constructor(dir: string, children: ChildProcess[]) {
    this.dir = dir;
    this.inbox = join(dir, 'inbox');
    this.#children = children;
  }

  static async start(dir: string, prefix: readonly string[], options: SambaHostOptions): Promise<SambaHost> {
    await writeSambaConf(
      dir,
      `   netbios name = ${options.netbiosName}\n` +
        (options.aliases?.length ? `   netbios aliases = ${options.aliases.join(' ')}\n` : '') +
        `   workgroup = ${options.workgroup ?? 'WORKGROUP'}\n   interfaces = eth0\n   wins support = ${options.winsSupport ? 'yes' : 'no'}\n` +
        '   local master = no\n   preferred master = no\n   domain master = no\n' +
        (options.globals ?? []).map((line) => `   ${line}\n`).join(''),
    );
    // each daemon's debug output (level 2) kept in DIR/NAME.log, for a test that fails to say why
    const daemon = (name: string) => {
      const log = openSync(join(dir, `${name}.log`), 'a');
      try {
        return spawn(prefix[0] as string, [...prefix.slice(1), 'timeout', '-k', '5', '300', name, '-F', '--no-process-group', '--debug-stdout', '-d', '2', '-l', join(dir, 'logs'), '-s', join(dir, 'smb.conf')], {
          stdio: ['ignore', log, log],
        });
      } finally {
        closeSync(log);
      }
    };
    return new SambaHost(dir, options.smbd === false ? [daemon('nmbd')] : [daemon('nmbd'), daemon('smbd')]);
  }

  messages(): Promise<Array<{ from: string; text: string }>> {
    return inboxMessages(this.inbox);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * `[global]` lines that keep a Samba client tool's state (name cache, locks, messaging sockets)
 * in `dir`, so concurrent tests never share what one of them learned about 10.77.0.x.
 */
export function clientStateLines(dir: string): string {
  return ['lock directory', 'state directory', 'cache directory', 'private dir', 'ncalrpc dir']
    .map((key) => {
      const path = join(dir, key.split(' ')[0] as string);
      mkdirSync(path, { recursive: true }); // the tools create their state folders, not the parents
      return `  ${key} = ${path}\n`;
    })
    .join('');
}

/** Folders and settings every test Samba needs; `specific` adds the role's own lines. */
async function writeSambaConf(dir: string, specific: string): Promise<void> {
  for (const sub of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'binddns', 'logs', 'inbox']) await mkdir(join(dir, sub), { recursive: true });
  // The message command runs as the guest account (nobody): it must reach and write the inbox.
  await chmod(dirname(dir), 0o755);
  await chmod(dir, 0o755);
  await chmod(join(dir, 'inbox'), 0o1777);
  const inbox = join(dir, 'inbox');
  await writeFile(
    join(dir, 'smb.conf'),
    `[global]
${specific}   server role = standalone server
   bind interfaces only = yes
   smb ports = 139
   server min protocol = NT1
   message command = /bin/sh -c 'f=${inbox}/msg-%f-$$; cat %s > $f.tmp && mv $f.tmp $f.txt; rm -f %s' &
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   map to guest = bad user
   private dir = ${dir}/private
   lock directory = ${dir}/lock
   state directory = ${dir}/state
   cache directory = ${dir}/cache
   pid directory = ${dir}/pid
   ncalrpc dir = ${dir}/ncalrpc
   binddns dir = ${dir}/binddns
   log file = ${dir}/logs/log.%m
`,
  );
}

/** The messages smbd delivered to `inbox`: sender (from the file name) and text (UTF-8, LF). */
async function inboxMessages(inbox: string): Promise<Array<{ from: string; text: string }>> {
  const files = (await readdir(inbox)).filter((f) => f.endsWith('.txt')).sort();
  return Promise.all(files.map(async (f) => ({ from: /^msg-(.*)-\d+\.txt$/.exec(f)?.[1] ?? '', text: await readFile(join(inbox, f), 'utf8') })));
}
