import type { Writable } from 'node:stream';
import { classicHeader, printableText, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

/** Shows each message on the daemon's terminal the way the Messenger pop-up read. */
export class TerminalSink implements Sink {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  deliver(message: StoredMessage): void {
    this.#out.write(`${classicHeader(message)}\n\n${printableText(message.text)}\n\n`);
  }
}
