import { sourceAddress } from '../messenger/address.js';
import { RateLimiter } from '../policy/rate-limit.js';

export interface AuditEntry {
  /** "remote-call", "remote-logon-failed", "refused-message", "refused-host", "admin". */
  readonly event: string;
  readonly principal: string;
  readonly source: string | null;
  readonly detail: string;
  /** The NET_API_STATUS the call ended with. */
  readonly status: number;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
  /** ms since the epoch */
  readonly at: number;
}

export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<number>;
  listAudit(afterId: number, limit: number): Promise<AuditRecord[]>;
}

/**
 * The audit log: remote administrative calls and refused messages, in the store. Refusals are
 * what a flood produces, so their records are rate limited per source address (a flood must not
 * fill the disk through the log, and a new connection, with a new port, must not bring a new
 * budget); the count of those left out is written with the next one taken. Each record keeps its
 * full source, port included.
 */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #log: (line: string) => void;
  readonly #refusals: RateLimiter;
  readonly #suppressed = new Map<string, number>();

  constructor(store: AuditStore, log: (line: string) => void, refusalRate = { ratePerSecond: 1, burst: 20 }) {
    this.#store = store;
    this.#log = log;
    this.#refusals = new RateLimiter({ ...refusalRate, maxSources: 10_000 });
  }

  /** Records without waiting: auditing never delays or fails the call it records. */
  record(entry: AuditEntry): void {
    let detail = entry.detail;
    if (entry.event.startsWith('refused')) {
      const key = `${entry.event} ${entry.source === null ? entry.principal : sourceAddress(entry.source)}`;
      if (!this.#refusals.take(key)) {
        if (this.#suppressed.size < 10_000 || this.#suppressed.has(key)) this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
        return;
      }
      const skipped = this.#suppressed.get(key);
      if (skipped !== undefined) {
        this.#suppressed.delete(key);
        detail += ` (and ${skipped} more like it not recorded)`;
      }
    }
    this.#store.appendAudit({ ...entry, detail }).catch((error: unknown) => this.#log(`audit: could not record ${entry.event}: ${String(error)}`));
  }

  list(afterId: number, limit: number): Promise<AuditRecord[]> {
    return this.#store.listAudit(afterId, limit);
  }
}

export { sourceAddress };
