/**
 * The daemon's parts in the order they started, each with how it stops. A failed start and a
 * normal stop unwind the same stack, so what one releases the other releases too.
 */
export class TeardownStack {
  readonly #steps: Array<{ readonly name: string; readonly stop: () => unknown }> = [];
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Registers how a part that just started stops; it stops before everything pushed earlier. */
  push(name: string, stop: () => unknown): void {
    this.#steps.push({ name, stop });
  }

  /**
   * Stops every part, newest first. A part that fails to stop is logged and the rest still stop:
   * the store, pushed first, closes last and always.
   */
  async unwind(): Promise<void> {
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.stop();
      } catch (error) {
        this.#log(`stopping the ${step.name} failed: ${String(error)}`);
      }
    }
  }
}
