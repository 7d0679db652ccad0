import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { isatty } from 'node:tty';
import { popupLines, senderNote, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

export interface TtyOptions {
  /** The terminal devices of the user an alias names ("/dev/pts/3"); the daemon reads utmp. */
  ttysOf: (alias: string) => Promise<readonly string[]> | readonly string[];
  /** How long one message may take to reach one terminal; past it that terminal is skipped. */
  timeoutMs: number;
  log: (line: string) => void;
  /** Told each time a message was written whole to a terminal (for receipts). */
  onShown?: (message: StoredMessage, tty: string) => void;
}

/** What became of a message on one terminal. */
export type TtyOutcome = 'written' | 'messages off' | 'not a terminal' | 'busy';

/** Messages waiting for one terminal; past it new ones skip that terminal (they are in the inbox). */
const MAX_QUEUED_PER_TTY = 8;
/** Pause before writing again to a terminal whose buffer is full (EAGAIN). */
const RETRY_MS = 50;

/**
 * Writes each message to the terminals of the user it is for, as write(1) does: only terminals
 * whose owner allows it (`mesg y`: the group-write bit), opened without becoming our controlling
 * terminal and without blocking. A terminal that takes nothing for `timeoutMs` (scrolling stopped,
 * nobody reading) is skipped; messages to one terminal go one after another, never interleaved.
 */
export class TtySink implements Sink {
  readonly #options: TtyOptions;
  readonly #queues = new Map<string, { tail: Promise<void>; waiting: number }>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: TtyOptions) {
    this.#options = options;
  }

  /** The promise settles (never rejects) once the message reached its terminals or was skipped. */
  deliver(message: StoredMessage): Promise<void> {
    const delivery = this.#deliver(message)
      .catch((error: unknown) => this.#options.log(`tty: message ${message.id} to ${message.to}: ${String(error)}`))
      .finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
    return delivery;
  }

  /** Resolves once the messages handed over so far reached their terminals or were skipped. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async #deliver(message: StoredMessage): Promise<void> {
    const ttys = await this.#options.ttysOf(message.to);
    if (ttys.length === 0) return;
    const bytes = Buffer.from(renderForTty(message), 'utf8');
    await Promise.all(ttys.map((tty) => this.#enqueue(tty, message, bytes)));
  }

  #enqueue(tty: string, message: StoredMessage, bytes: Uint8Array): Promise<void> {
    const { log, timeoutMs } = this.#options;
    const queue = this.#queues.get(tty) ?? { tail: Promise.resolve(), waiting: 0 };
    if (queue.waiting >= MAX_QUEUED_PER_TTY) {
      log(`tty: ${tty} has ${queue.waiting} messages waiting; message ${message.id} skips it`);
      return Promise.resolve();
    }
    queue.waiting++;
    const done = queue.tail
      .then(() => writeTty(tty, bytes, timeoutMs))
      .then(
        (outcome) => {
          if (outcome === 'written') this.#options.onShown?.(message, tty);
          if (outcome === 'busy') log(`tty: ${tty} took no more of message ${message.id} within ${timeoutMs} ms; skipped`);
          else if (outcome === 'not a terminal') log(`tty: ${tty} is not a terminal; message ${message.id} skips it`);
          // 'messages off' is the user's choice (mesg n), as quiet as write(1) is to the recipient
        },
        (error: unknown) => log(`tty: cannot write message ${message.id} to ${tty}: ${String(error)}`),
      )
      .finally(() => {
        if (--queue.waiting === 0) this.#queues.delete(tty);
      });
    queue.tail = done;
    this.#queues.set(tty, queue);
    return done;
  }
}

/** The message as write(1) users know it: bells, the pop-up's lines; CRLF for raw-mode terminals. */
export function renderForTty(message: StoredMessage): string {
  // as insistent as the sender asked: no bell for low, one as write(1) rings, three for urgent
  const bells = '\u0007'.repeat({ low: 0, normal: 1, high: 1, urgent: 3 }[message.priority ?? 'normal']);
  // names and text from the network are cleaned by popupLines: this is someone else's terminal
  return `\r\n${bells}${popupLines(message, senderNote(message)).join('\r\n')}\r\n\r\n`;
}

const acceptsMessages = (mode: number) => (mode & constants.S_IWGRP) !== 0;

/**
 * Writes `bytes` to one terminal, never waiting longer than `timeoutMs` for it: O_NONBLOCK makes a
 * full terminal answer EAGAIN instead of holding the write, and we retry until the deadline.
 */
export async function writeTty(path: string, bytes: Uint8Array, timeoutMs: number): Promise<TtyOutcome> {
  const deadline = Date.now() + timeoutMs;
  const before = await stat(path);
  if (!before.isCharacterDevice()) return 'not a terminal';
  if (!acceptsMessages(before.mode)) return 'messages off';
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 'busy';
    throw error;
  }
  try {
    // The device we opened is the one we checked, a terminal (not /dev/null: a character device
    // anyone may write to), and still allows messages.
    const after = await handle.stat();
    if (after.ino !== before.ino || after.rdev !== before.rdev || !after.isCharacterDevice() || !isatty(handle.fd)) return 'not a terminal';
    if (!acceptsMessages(after.mode)) return 'messages off';
    let offset = 0;
    while (offset < bytes.length) {
      if (Date.now() >= deadline) return 'busy';
      try {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
        if (bytesWritten > 0) continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS, Math.max(0, deadline - Date.now()))));
    }
    return 'written';
  } finally {
    await handle.close();
  }
}
