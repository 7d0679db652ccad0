import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit } from './children.js';

/** The compiled CLI entry points (tests run from dist/test/…). */
export const NETSEND_BIN = fileURLToPath(new URL('../../src/cli/netsend.js', import.meta.url));
export const SENDNETMSG_BIN = fileURLToPath(new URL('../../src/cli/sendnetmsg.js', import.meta.url));

/**
 * The node flags `npm start` gives the daemon (package.json), for the daemons the tests and
 * benchmarks start: they run as the README's command runs them.
 */
export function daemonNodeFlags(): string[] {
  startFlags ??= readStartFlags();
  return startFlags;
}

let startFlags: string[] | undefined;

function readStartFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const flags = /^node (.*?) ?dist\/src\/cli\/netsend\.js serve$/.exec(pkg.scripts.start)?.[1];
  if (flags === undefined) throw new Error(`package.json's start script is not "node [FLAGS] dist/src/cli/netsend.js serve": ${pkg.scripts.start}`);
  return flags === '' ? [] : flags.split(/\s+/);
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to the end (bounded by `timeoutMs`, then SIGKILL), with stdin from `input`. */
export function runCommand(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs one of our CLI entry points with this Node. */
export function run(bin: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand([process.execPath, bin, ...args], { timeoutMs: 15_000, ...options });
}

/** A temp data dir, removed by `cleanup`. Short, so the control socket path stays under 108 bytes. */
export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A `netsend serve` subprocess on its own data dir. */
export class DaemonProcess {
  readonly dataDir: string;
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(dataDir: string, child: ChildProcess) {
    this.dataDir = dataDir;
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `netsend serve --data-dir DIR …` and waits (at most `timeoutMs`) until it serves. */
  static async start(
    dataDir: string,
    args: readonly string[] = [],
    options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; prefix?: readonly string[] } = {},
  ): Promise<DaemonProcess> {
    // `prefix` runs the daemon inside a test namespace ("ip netns exec NAME"): ip execs it, same PID.
    const argv = [...(options.prefix ?? []), process.execPath, ...daemonNodeFlags(), NETSEND_BIN, 'serve', '--data-dir', dataDir, ...args];
    const child = spawn(argv[0] as string, argv.slice(1), {
      // the secure channel and the web inbox are off unless a test turns them on: concurrent daemons would contend for their ports
      env: { ...process.env, NETSEND_NETBIOS_NAME: 'TESTHOST', NETSEND_SECURE_PORT: '0', NETSEND_HTTP_PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    const daemon = new DaemonProcess(dataDir, child);
    await daemon.waitFor(() => daemon.stderr.includes('Messenger service started'), options.timeoutMs ?? 10_000, 'the daemon to start');
    return daemon;
  }

  /** Polls `condition` every 20 ms, failing after `timeoutMs` or if the daemon exits. */
  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the daemon exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}:\n${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` to this daemon's PID and waits for it to exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `netsend ARGS --data-dir DIR`. */
  cli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    return run(NETSEND_BIN, [...args, '--data-dir', this.dataDir], options);
  }
}

/** A TCP port free on 127.0.0.1 right now (for a daemon's --smb-ports and the like). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
