import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVerified, senderNote, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';
import { splitCommandLine } from '../config/command-line.js';

export interface HookOptions {
  /** Samba's `message command`: split into words like a shell would, but never run by a shell. */
  command: string;
  timeoutMs: number;
  /** Folder for the per-message text files (%s). */
  spoolDir: string;
  /** Hooks that may run at once; the rest wait in a queue. */
  concurrency: number;
  /** Longest queue; past it new messages skip the hook (they are in the inbox anyway). */
  maxQueued: number;
  log: (line: string) => void;
}

/**
 * Runs the administrator's command for each message, like Samba's `message command`:
 *   %s  a file holding the text (deleted after the command ends)
 *   %f  the sender   %t  the recipient   %i  the message id   %%  a percent sign
 * The text goes on stdin too; NETSEND_FROM, NETSEND_TO, NETSEND_ID, NETSEND_VIA, NETSEND_TITLE
 * (empty: none), NETSEND_PRIORITY, NETSEND_RECEIVED_AT and NETSEND_MESSAGE_FILE carry the exact
 * values in the environment.
 *
 * Safety: received text never appears in the command line. Names are substituted with every
 * character outside [A-Za-z0-9._-] replaced by "_" (as Samba does for %f/%t), so even a
 * command run through `sh -c` cannot be made to run what a sender wrote. Commands are killed
 * after `timeoutMs`, and run after the message is stored, so they never hold up the sender.
 */
export class HookSink implements Sink {
  readonly #argv: readonly string[];
  readonly #options: HookOptions;
  readonly #queue: StoredMessage[] = [];
  #running = 0;
  #idle: Array<() => void> = [];

  constructor(options: HookOptions) {
    this.#argv = splitCommandLine(options.command);
    if (this.#argv.length === 0) throw new TypeError('The message command is empty');
    this.#options = options;
  }

  deliver(message: StoredMessage): void {
    if (this.#queue.length >= this.#options.maxQueued) {
      this.#options.log(`message command: queue full (${this.#options.maxQueued}); skipped for message ${message.id}`);
      return;
    }
    this.#queue.push(message);
    this.#pump();
  }

  /** Resolves once every queued command has finished. */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#options.concurrency && this.#queue.length > 0) {
      const message = this.#queue.shift() as StoredMessage;
      this.#running++;
      this.#run(message)
        .catch((error: unknown) => this.#options.log(`message command for message ${message.id} failed: ${String(error)}`))
        .finally(() => {
          this.#running--;
          this.#pump();
          if (this.#running === 0 && this.#queue.length === 0) for (const done of this.#idle.splice(0)) done();
        });
    }
  }

  async #run(message: StoredMessage): Promise<void> {
    const { spoolDir, timeoutMs } = this.#options;
    await mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const file = join(spoolDir, `message-${message.id}.txt`);
    await writeFile(file, message.text, { mode: 0o600 });
    const values: Record<string, string> = {
      s: file,
      f: safeName(message.from),
      t: safeName(message.to),
      i: String(message.id),
      '%': '%',
    };
    const [program, ...args] = this.#argv.map((word) => word.replace(/%([sfti%])/g, (_, key: string) => values[key] ?? ''));
    try {
      await new Promise<void>((resolve, reject) => {
        // Its own process group, so the timeout also ends what the command started (sh -c '…').
        const child = spawn(program as string, args, {
          stdio: ['pipe', 'ignore', 'pipe'],
          detached: true,
          env: {
            ...process.env,
            NETSEND_FROM: message.from,
            NETSEND_TO: message.to,
            NETSEND_ID: String(message.id),
            NETSEND_VIA: message.via,
            NETSEND_TITLE: message.title ?? '',
            NETSEND_PRIORITY: message.priority ?? 'normal',
            // who really sent it (senderNote): empty when the sender's name is the verified local account's own
            NETSEND_VERIFIED: isVerified(message.via) ? 'yes' : 'no',
            NETSEND_SENDER: senderNote(message) ?? '',
            NETSEND_RECEIVED_AT: message.receivedAt.toISOString(),
            NETSEND_MESSAGE_FILE: file,
          },
        });
        let killed = false;
        const timer = setTimeout(() => {
          killed = true;
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, timeoutMs);
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          if (stderr.length < 2000) stderr += chunk;
        });
        child.stdin.on('error', () => {}); // a command that does not read its stdin is fine
        child.stdin.end(message.text);
        child.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        // 'close' waits for what the command left running with our stderr (cmd &): it keeps the
        // slot, so the concurrency bound holds for everything the command started.
        let exitCode: number | null | undefined;
        child.on('exit', (code) => (exitCode = code));
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0 && !killed) resolve();
          else if (killed && exitCode === 0) reject(new Error(`exited 0, but what it left running in the background was ended after ${timeoutMs} ms`));
          else if (killed) reject(new Error(`killed after ${timeoutMs} ms`));
          else reject(new Error(`exited with ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`));
        });
      });
    } finally {
      await rm(file, { force: true });
    }
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

