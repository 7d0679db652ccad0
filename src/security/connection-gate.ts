import { sourceAddress } from '../messenger/address.js';
import type { AuditLog } from './audit.js';

/** How many connections a listener holds at once, and how many of them one address may hold. */
export interface ConnectionLimits {
  readonly total: number;
  readonly perAddress: number;
}

/**
 * The connection side of the front door, one per listener (SMB, secure channel, web, control):
 * a cap on connections open at once, and a share of it per source address, so that one address
 * cannot lock every other sender out by holding sockets open. Refusals are audited (rate limited
 * per address by the audit log).
 */
export class ConnectionGate {
  readonly #limits: ConnectionLimits;
  readonly #listener: string;
  readonly #audit: Pick<AuditLog, 'record'> | undefined;
  readonly #perAddress = new Map<string, number>();
  #open = 0;

  constructor(listener: string, limits: ConnectionLimits, audit?: Pick<AuditLog, 'record'>) {
    this.#listener = listener;
    this.#limits = limits;
    this.#audit = audit;
  }

  get open(): number {
    return this.#open;
  }

  /**
   * Lets a connection from `source` in: a function to call once when it closes, or null when it
   * is refused (the caller closes it, with its protocol's "no resources" answer where it has one).
   */
  enter(source: string): (() => void) | null {
    const address = sourceAddress(source);
    const fromHere = this.#perAddress.get(address) ?? 0;
    const full = this.#open >= this.#limits.total;
    if (full || fromHere >= this.#limits.perAddress) {
      this.#audit?.record({
        event: 'refused-connection',
        principal: 'anonymous',
        source,
        detail: full
          ? `${this.#listener}: ${this.#limits.total} connections are open, the most it takes`
          : `${this.#listener}: ${address} holds ${fromHere} connections, the most one address may`,
        status: 2283,
      });
      return null;
    }
    this.#open++;
    this.#perAddress.set(address, fromHere + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#open--;
      const remaining = (this.#perAddress.get(address) ?? 1) - 1;
      if (remaining > 0) this.#perAddress.set(address, remaining);
      else this.#perAddress.delete(address);
    };
  }
}
