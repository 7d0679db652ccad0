import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { waitUntil } from './netns.js';

const PYTHON = '/usr/bin/python3';

/** Why real pseudo-terminal tests cannot run here, or null. */
export function ptyUnavailable(): string | null {
  if (process.platform !== 'linux') return 'pseudo-terminal tests need Linux';
  if (spawnSync(PYTHON, ['-c', 'import pty, tty']).status !== 0) return `${PYTHON} is not installed (scripts/install-peers.sh installs it)`;
  return null;
}

// Opens a pty in raw mode (no NL -> CRNL translation, so the test sees the bytes as written),
// prints the slave's path, then copies what arrives on the master to stdout until stdin closes
// or the time is up. With "hold" it never reads the master, so the terminal's buffer fills.
const SCRIPT = `
import os, pty, select, sys, time, tty
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
hold = sys.argv[2] == "hold"
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    watched = [sys.stdin] if hold else [master, sys.stdin]
    ready, _, _ = select.select(watched, [], [], 0.1)
    if master in ready:
        sys.stdout.buffer.write(os.read(master, 65536))
        sys.stdout.buffer.flush()
    if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
        break
`;

/** A real pseudo-terminal, held open by a python3 child; what is written to its device collects in `output`. */
export class Pty {
  readonly path: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #output: Buffer;

  private constructor(path: string, child: ChildProcess, rest: Buffer) {
    this.path = path;
    this.#child = child;
    this.#output = rest;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (chunk: Buffer) => (this.#output = Buffer.concat([this.#output, chunk])));
  }

  /** Opens a pty with `mode` (0o620 = mesg y, 0o600 = mesg n); `hold` leaves its output unread. */
  static async open(mode: number, options: { hold?: boolean; lifetimeSeconds?: number } = {}): Promise<Pty> {
    const child = spawn(PYTHON, ['-c', SCRIPT, String(options.lifetimeSeconds ?? 30), options.hold ? 'hold' : 'read'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const first = await new Promise<{ path: string; rest: Buffer }>((resolve, reject) => {
      let seen = Buffer.alloc(0);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('python3 did not open a pty within 5 s'));
      }, 5000);
      const onData = (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]);
        const newline = seen.indexOf(0x0a);
        if (newline < 0) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve({ path: seen.subarray(0, newline).toString('utf8'), rest: seen.subarray(newline + 1) });
      };
      child.stdout?.on('data', onData);
      child.once('error', reject);
    });
    const pty = new Pty(first.path, child, first.rest);
    await chmod(pty.path, mode);
    return pty;
  }

  /** Everything written to the terminal so far, as text. */
  get output(): string {
    return this.#output.toString('utf8');
  }

  async waitFor(text: string, timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.output.includes(text), timeoutMs, `${JSON.stringify(text)} on ${this.path}`);
  }

  /** Closes the pty: stdin's end stops the python loop; killed by PID if it does not exit in 2 s. */
  async close(): Promise<void> {
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(timer);
  }
}
