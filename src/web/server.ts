import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { handleRequest, type ControlServices } from '../control/handlers.js';
import { ConnectionGate } from '../security/front-door.js';
import type { Principal } from '../security/access.js';
import type { WebApp } from './app.js';
import { WebAuth } from './auth.js';
import type { PushHub } from './push.js';
import type { WebContext, WebReceipts, WebStore } from './routes.js';

/**
 * Web connections at once, and per address: a page holds a stream and a request or two; the
 * session caps (auth.ts) bound what logged-on users hold.
 */
export const WEB_CONNECTIONS = { total: 512, perAddress: 32 } as const;

/** The page's files: plain HTML, CSS and JS in the top-level web/ folder (from dist/src/web/ too). */
const PAGE_DIR = new URL('../../../web/', import.meta.url);
const SOURCE_PAGE_DIR = new URL('../../web/', import.meta.url);

function loadPage(): { html: string; js: string; css: string } {
  for (const dir of [PAGE_DIR, SOURCE_PAGE_DIR]) {
    try {
      const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');
      return { html: read('index.html'), js: read('app.js'), css: read('app.css') };
    } catch {
      // try the next layout
    }
  }
  throw new Error(`The web inbox's page is missing (looked in ${PAGE_DIR.pathname})`);
}

function unavailable(response: ServerResponse): void {
  if (!response.headersSent) response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end('The web inbox could not start; restart the daemon.\n');
}

export interface WebServerOptions {
  readonly port: number;
  readonly bind: string;
  readonly services: ControlServices;
  readonly store: WebStore;
  /** A page's read and acknowledge: recorded by the receipts, which tell the pages (push) of the new state. */
  readonly receipts: WebReceipts;
  readonly push: PushHub;
  readonly workgroup: string;
  readonly ownerPrincipal: () => Promise<Principal>;
  /** Largest message text accepted, in UTF-16 bytes: request bodies are bounded from it. */
  readonly maxMessageBytes: number;
  /** Operational log lines (the app failing to load). */
  readonly log: (line: string) => void;
}

/**
 * The web inbox: the page, its JSON API, the live stream and ntfy's publish endpoint (app.ts, on
 * fastify). Loopback by default ("http bind"); see docs/web-api.md.
 *
 * It listens at once, on a node:http server of its own, and loads the app on the first request:
 * fastify and the routes are most of what the web inbox costs in memory (about 8 MiB), and a host
 * whose web inbox nobody opens (a server, a gateway) need not carry them. The first request waits
 * for the load (0.13 s on the development machine; the ones after it take about 1.5 ms).
 */
export class WebServer {
  readonly auth = new WebAuth();
  readonly #server: Server;
  readonly #options: WebServerOptions;
  readonly #context: WebContext;
  /** The app, once the first request has loaded it. */
  #app: WebApp | undefined;
  #loading: Promise<WebApp> | undefined;
  /** Why the app could not be loaded: Node keeps a failed import's error, so only a restart tries again. */
  #failed: string | undefined;
  #port = 0;
  #unwatch: () => void = () => {};

  private constructor(options: WebServerOptions) {
    this.#options = options;
    const names = new Set(['localhost', hostname().toLowerCase(), hostname().toLowerCase().split('.')[0] as string, options.services.messenger.computerName.toLowerCase()]);
    this.#context = {
      services: options.services,
      store: options.store,
      receipts: options.receipts,
      control: (request, principal) => handleRequest(options.services, request, principal),
      auth: this.auth,
      push: options.push,
      ownerPrincipal: options.ownerPrincipal,
      workgroup: options.workgroup,
      hostNames: names,
      cookieName: `netsend_${options.port}`,
      logons: options.services.logonGate,
      page: loadPage(),
    };
    // As fastify sets up its own: keep-alive past a page's polling gap, and a whole request (its
    // headers too) within 30 s against slow senders (slowloris; streams are responses, not bound by it).
    this.#server = createServer({ keepAliveTimeout: 72_000, requestTimeout: 30_000 }, (request, response) => this.#handle(request, response));
  }

  static async start(options: WebServerOptions): Promise<WebServer> {
    const server = new WebServer(options);
    // Connections per source address, as on every listener (security/front-door.ts).
    const gate = new ConnectionGate('web', WEB_CONNECTIONS, options.services.audit);
    server.#server.on('connection', (socket: Socket) => {
      const leave = gate.enter(`${socket.remoteAddress}:${socket.remotePort}`);
      if (leave === null) socket.destroy();
      else socket.once('close', leave);
    });
    // Sessions and streams follow their account: a new password or a deleted account ends them at
    // once, new groups are read again before the next request, and streams reconnect to be checked.
    server.#unwatch = options.services.accounts.watch((user, change) => {
      server.auth.accountChanged(user, change);
      options.push.sweep();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.#server.once('error', reject);
        server.#server.listen({ port: options.port, host: options.bind }, () => {
          server.#server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      server.#unwatch();
      throw error;
    }
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.#app !== undefined) return this.#app.handle(request, response);
    if (this.#failed !== undefined) return unavailable(response);
    this.#loading ??= import('./app.js').then(({ webApp }) => webApp(this.#server, this.#options.maxMessageBytes, this.#context));
    this.#loading
      .then(
        (app) => {
          this.#app = app;
          // a caller that left while the app loaded (or the server closing) is not handed on
          if (!request.socket.destroyed) app.handle(request, response);
        },
        (error: unknown) => {
          if (this.#failed === undefined) this.#options.log(`the web inbox could not start (restart the daemon to try again): ${String(error)}`);
          this.#failed = String(error);
          unavailable(response);
        },
      )
      .catch((error: unknown) => this.#options.log(`the web inbox failed a request: ${String(error)}`));
  }

  get port(): number {
    return this.#port;
  }

  /** The page's address as this machine reaches it (a wildcard bind is reached on loopback). */
  get url(): string {
    const bind = this.#options.bind;
    const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '[::1]' : bind.includes(':') ? `[${bind}]` : bind;
    return `http://${host}:${this.#port}/`;
  }

  /** A fresh one-time login URL for the data dir's owner (the token is in the fragment: never sent in a request line or logged by a proxy). */
  loginUrl(): string {
    return `${this.url}#token=${this.auth.mintLoginToken()}`;
  }

  async close(): Promise<void> {
    this.#unwatch();
    this.#options.push.close();
    const closed = new Promise((resolve) => this.#server.close(resolve));
    this.#server.closeAllConnections();
    await (await this.#loading?.catch(() => undefined))?.close();
    await closed;
  }
}
