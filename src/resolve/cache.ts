import { foldNetbiosName } from '../messenger/netbios-names.js';
import type { Endpoint, NameResolver } from './resolver.js';

/**
 * The name cache in front of the other sources (RFC 1001 §15.1.3.3 lets a node cache what it
 * learned; Samba's `name cache timeout`). Only positive answers are kept: a name that was not
 * found is asked for again next time.
 */
export class NameCache implements NameResolver {
  readonly #sources: readonly NameResolver[];
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { endpoint: Endpoint; expires: number }>();

  constructor(sources: readonly NameResolver[], ttlSeconds: number, now: () => number = Date.now) {
    this.#sources = sources;
    this.#ttlMs = ttlSeconds * 1000;
    this.#now = now;
  }

  async resolve(name: string, suffix: number): Promise<Endpoint | null> {
    const key = cacheKey(name, suffix);
    const cached = this.#entries.get(key);
    if (cached !== undefined && cached.expires > this.#now()) return cached.endpoint;
    this.#entries.delete(key);
    for (const source of this.#sources) {
      const endpoint = await source.resolve(name, suffix);
      if (endpoint !== null) {
        if (this.#ttlMs > 0) this.#entries.set(key, { endpoint, expires: this.#now() + this.#ttlMs });
        return endpoint;
      }
    }
    return null;
  }

  /** Drops a cached answer that turned out wrong (the host no longer answers). */
  forget(name: string, suffix: number): void {
    this.#entries.delete(cacheKey(name, suffix));
  }

  /** Whether an answer for the name is cached now. */
  has(name: string, suffix: number): boolean {
    const cached = this.#entries.get(cacheKey(name, suffix));
    return cached !== undefined && cached.expires > this.#now();
  }
}

/** Names compare as Samba's name cache compares them: upper-cased per character with Samba's table ('ß' is not 'SS'). */
const cacheKey = (name: string, suffix: number) => `${foldNetbiosName(name)}<${suffix}>`;
