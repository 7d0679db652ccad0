import type { StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

/** Hands each message to every sink; one sink's failure never reaches the others or the sender. */
export class FanOut implements Sink {
  readonly #sinks: readonly Sink[];
  readonly #onError: (error: unknown) => void;

  constructor(sinks: readonly Sink[], onError: (error: unknown) => void) {
    this.#sinks = sinks;
    this.#onError = onError;
  }

  deliver(message: StoredMessage): void {
    for (const sink of this.#sinks) {
      try {
        sink.deliver(message);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
