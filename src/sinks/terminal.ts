import type { Writable } from 'node:stream';
import { classicHeader, printableName, printableText, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

/** Shows each message on the daemon's terminal the way the Messenger pop-up read. */
export class TerminalSink implements Sink {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  deliver(message: StoredMessage): void {
    // names from the legacy wire are not validated by the sender: they are shown cleaned too
    const header = classicHeader({ ...message, from: printableName(message.from), to: printableName(message.to) });
    const mark = message.priority === 'urgent' ? 'URGENT ' : message.priority === 'high' ? 'IMPORTANT ' : '';
    this.#out.write(`${mark}${header}\n\n${printableText(message.text)}\n\n`);
  }
}
