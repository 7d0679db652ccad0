import type { Writable } from 'node:stream';
import { popupLines, senderNote, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

/** Shows each message on the daemon's terminal the way the Messenger pop-up read. */
export class TerminalSink implements Sink {
  readonly #out: Writable;
  /** The stream failed (its reader went away: EPIPE): nothing more is written to it. */
  #broken = false;

  /**
   * @param log where the one line about a stream that failed goes; give none when the log is
   *   that same stream (a dead stream is not written to again, not even to say so)
   */
  constructor(out: Writable, log?: (line: string) => void) {
    this.#out = out;
    // Without a listener, a write error (the pipe's reader is gone) is an unhandled 'error' that
    // ends the daemon. The daemon's terminal is one sink of several: it stops, the others go on.
    out.on('error', (error: unknown) => {
      if (this.#broken) return;
      this.#broken = true;
      try {
        log?.(`terminal: cannot write to the daemon's output (${(error as NodeJS.ErrnoException).code ?? String(error)}); messages are no longer shown there`);
      } catch {
        // the log is gone too: nothing more to do
      }
    });
  }

  deliver(message: StoredMessage): void {
    if (this.#broken || this.#out.destroyed || this.#out.writableEnded) return;
    this.#out.write(`${popupLines(message, senderNote(message)).join('\n')}\n\n`);
  }
}
