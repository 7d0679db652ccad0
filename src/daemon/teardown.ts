/**
 * The daemon's parts, each with how it stops, in the reverse of the order they stop in. A failed
 * start and a normal stop unwind the same stack, so what one releases the other releases too.
 */
export class TeardownStack {
  readonly #steps: Array<{ readonly name: string; readonly stop: () => unknown }> = [];
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /**
   * Registers how a part stops; it stops before everything pushed earlier. A part may be pushed
   * before it starts when stopping it unstarted is harmless: that is how the stop order is set.
   */
  push(name: string, stop: () => unknown): void {
    this.#steps.push({ name, stop });
  }

  /**
   * Stops every part, newest first. A part that fails to stop does not keep the rest from
   * stopping (the store, pushed first, closes last and always); the failures after the first are
   * logged.
   * @throws the first part's error, once every part was stopped
   */
  async unwind(): Promise<void> {
    let failed: { error: unknown } | undefined;
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.stop();
      } catch (error) {
        if (failed === undefined) failed = { error };
        else this.#log(`stopping the ${step.name} failed: ${String(error)}`);
      }
    }
    if (failed !== undefined) throw failed.error;
  }
}
