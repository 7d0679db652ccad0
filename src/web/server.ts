import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { handleRequest, type ControlServices } from '../control/handlers.js';
import { ConnectionGate } from '../security/front-door.js';
import type { Principal } from '../security/access.js';
import { WebAuth } from './auth.js';
import type { PushHub } from './push.js';
import { registerRoutes, type WebReceipts, type WebStore } from './routes.js';

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

const noSchemas = (): never => {
  throw new Error('The web inbox takes no JSON schemas.');
};

/** The fastify instance the web inbox runs on, before its routes: WebServer.start's, and the route tests'. */
export function createWebApp(maxMessageBytes: number): FastifyInstance {
  const app = Fastify({
    // No route declares a JSON schema (bodies are checked by hand, after the CSRF checks): without
    // this, fastify loads its schema compilers (ajv, fast-json-stringify), some 6 MiB for nothing.
    // A route that declares one fails at start.
    schemaController: { compilersFactory: { buildValidator: () => noSchemas, buildSerializer: () => noSchemas } },
    logger: false,
    // A message in UTF-8 is at most 1.5 bytes per UTF-16 byte, JSON escapes at most 3: bound to that.
    bodyLimit: maxMessageBytes * 3 + 16 * 1024,
    // Slow senders (slowloris): a whole request within 30 s. Streams are responses, not bound by it.
    requestTimeout: 30_000,
    forceCloseConnections: true,
  });
  // Bodies are text: JSON is parsed by the routes that take it (after the CSRF checks), and
  // ntfy's publish takes the body as the message whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  return app;
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
}

/**
 * The web inbox: the page, its JSON API, the live stream and ntfy's publish endpoint, on
 * fastify. Loopback by default ("http bind"); see docs/web-api.md.
 */
export class WebServer {
  readonly auth = new WebAuth();
  readonly #app: FastifyInstance;
  readonly #options: WebServerOptions;
  #port = 0;
  #unwatch: () => void = () => {};

  private constructor(options: WebServerOptions, app: FastifyInstance) {
    this.#options = options;
    this.#app = app;
  }

  static async start(options: WebServerOptions): Promise<WebServer> {
    const app = createWebApp(options.maxMessageBytes);
    const server = new WebServer(options, app);
    // Connections per source address, as on every listener (security/front-door.ts).
    const gate = new ConnectionGate('web', WEB_CONNECTIONS, options.services.audit);
    app.server.on('connection', (socket: Socket) => {
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
    const names = new Set(['localhost', hostname().toLowerCase(), hostname().toLowerCase().split('.')[0] as string, options.services.messenger.computerName.toLowerCase()]);
    registerRoutes(app, {
      services: options.services,
      store: options.store,
      receipts: options.receipts,
      control: (request, principal) => handleRequest(options.services, request, principal),
      auth: server.auth,
      push: options.push,
      ownerPrincipal: options.ownerPrincipal,
      workgroup: options.workgroup,
      hostNames: names,
      cookieName: `netsend_${options.port}`,
      logons: options.services.logonGate,
      page: loadPage(),
    });
    try {
      await app.listen({ port: options.port, host: options.bind });
    } catch (error) {
      server.#unwatch();
      await app.close();
      throw error;
    }
    server.#port = (app.server.address() as AddressInfo).port;
    return server;
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
    await this.#app.close();
  }
}
