import type { Server } from 'node:net';

/** First wait before binding an address again that was not ready; it doubles up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 5000;

/**
 * One TCP server per address of a transport, kept in step with the host's addresses: the one
 * listener starter of the SMB and secure transports. An address that is not ready yet (an IPv6
 * address still in duplicate address detection is "tentative" and cannot be bound: EADDRNOTAVAIL)
 * is bound again shortly after, for as long as it is wanted, instead of failing the start.
 */
export class TcpListeners {
  readonly #port: number;
  readonly #create: () => Server;
  readonly #log: (line: string) => void;
  readonly #what: string;
  /** Open servers by the host they bind ('' = every address). */
  readonly #servers = new Map<string, Server>();
  /** Addresses waiting to be bound again, with their retry timers. */
  readonly #waiting = new Map<string, NodeJS.Timeout>();
  /** Addresses being bound right now (a retry's bind may still be under way when an update comes). */
  readonly #binding = new Set<string>();
  /** What the last update asked for: a retry that lands after its host went away closes again. */
  #wanted = new Set<string>();
  /** After the first update, each new address is logged (the first list is logged by the caller). */
  #started = false;
  #closed = false;

  constructor(options: { port: number; create: () => Server; log: (line: string) => void; what: string }) {
    this.#port = options.port;
    this.#create = options.create;
    this.#log = options.log;
    this.#what = options.what;
  }

  /** "address:port" of every open server ("[fe80::1%eth0]:139" for IPv6). */
  get endpoints(): string[] {
    return [...this.#servers.values()].map((server) => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? endpoint(address.address, address.port) : String(address);
    });
  }

  /**
   * Listens on exactly `hosts` (undefined: one server on every address). Servers of hosts no
   * longer wanted stop accepting; their open connections go on until they end.
   * @throws the bind error of a host (other than one that is not ready yet) when `strict`
   */
  async update(hosts: readonly string[] | undefined, strict = false): Promise<void> {
    const wanted = new Set(hosts ?? ['']);
    this.#wanted = wanted;
    for (const [host, timer] of this.#waiting) {
      if (!wanted.has(host)) {
        clearTimeout(timer);
        this.#waiting.delete(host);
      }
    }
    for (const [host, server] of this.#servers) {
      if (wanted.has(host)) continue;
      this.#servers.delete(host);
      this.#log(`${this.#what}: no longer listening on ${endpoint(host, this.#port)}`);
      // stops listening at once; not awaited, as its callback waits for the open connections
      server.close();
    }
    for (const host of wanted) {
      if (this.#servers.has(host) || this.#waiting.has(host) || this.#binding.has(host)) continue;
      try {
        await this.#bind(host, RETRY_FIRST_MS);
      } catch (error) {
        if (strict) throw error;
        this.#log(`${this.#what}: cannot listen on ${endpoint(host, this.#port)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    this.#started = true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  async #bind(host: string, nextWaitMs: number): Promise<void> {
    const server = this.#create();
    this.#binding.add(host);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.#port, ...(host === '' ? {} : { host }) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#binding.delete(host);
      if ((error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw error;
      if (this.#closed || !this.#wanted.has(host)) return;
      if (nextWaitMs === RETRY_FIRST_MS) this.#log(`${this.#what}: ${host} is not ready yet (duplicate address detection?); trying again`);
      const timer = setTimeout(() => {
        this.#waiting.delete(host);
        if (this.#closed) return;
        this.#bind(host, Math.min(nextWaitMs * 2, RETRY_MAX_MS)).catch((failure: NodeJS.ErrnoException) =>
          this.#log(`${this.#what}: cannot listen on ${endpoint(host, this.#port)}: ${failure.code ?? String(failure)}`),
        );
      }, nextWaitMs);
      timer.unref();
      this.#waiting.set(host, timer);
      return;
    }
    this.#binding.delete(host);
    if (this.#closed || !this.#wanted.has(host)) {
      server.close();
      return;
    }
    this.#servers.set(host, server);
    if (this.#started || nextWaitMs !== RETRY_FIRST_MS) this.#log(`${this.#what}: now listening on ${endpoint(host, this.#port)}`);
  }
}

/** "[fe80::1%eth0]:139", "10.0.0.1:139", "*:139". */
function endpoint(host: string, port: number): string {
  if (host === '') return `*:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
