/**
 * Per-source token buckets: each source (an IP address, later a user or host key) may burst
 * `burst` messages, then `ratePerSecond`. Used on the unauthenticated legacy transports, where a
 * single sender could otherwise fill every screen and the disk.
 */
export interface RateLimitOptions {
  ratePerSecond: number;
  burst: number;
  /** Sources tracked at once; the least recently seen are forgotten past it (memory stays bounded). */
  maxSources?: number;
  /**
   * Tokens a bucket may go below empty for takes that are allowed the reserve (a light sender
   * under a shared cap, see security/front-door.ts); the bucket refills from there at the rate.
   */
  reserve?: number;
  now?: () => number;
}

export const DEFAULT_MAX_SOURCES = 10_000;

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxSources: number;
  readonly #reserve: number;
  readonly #now: () => number;
  /** Insertion order is recency order: a source is re-inserted whenever it is seen. */
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: RateLimitOptions) {
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxSources = options.maxSources ?? DEFAULT_MAX_SOURCES;
    this.#reserve = options.reserve ?? 0;
    this.#now = options.now ?? Date.now;
  }

  /** Gives back a token taken for something that turned out not to count (a logon that succeeded). */
  refund(source: string): void {
    const bucket = this.#buckets.get(source);
    if (bucket !== undefined) bucket.tokens = Math.min(this.#burst, bucket.tokens + 1);
  }

  /**
   * Takes one token for `source`; false when its bucket is empty (the message is refused).
   * `mayUseReserve` lets the take go on below empty, down to the reserve.
   */
  take(source: string, mayUseReserve = false): boolean {
    const bucket = this.#refill(source);
    this.#buckets.delete(source);
    this.#buckets.set(source, bucket);
    if (this.#buckets.size > this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (bucket.tokens < (mayUseReserve ? 1 - this.#reserve : 1)) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** The tokens `source` has now (the burst for a source not seen), without taking one. */
  level(source: string): number {
    return this.#buckets.has(source) ? this.#refill(source).tokens : this.#burst;
  }

  #refill(source: string): { tokens: number; at: number } {
    const now = this.#now();
    const bucket = this.#buckets.get(source) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    return bucket;
  }

  get trackedSources(): number {
    return this.#buckets.size;
  }
}
