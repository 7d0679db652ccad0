/**
 * The web inbox's fastify app: the page, its JSON API, the live stream and ntfy's publish
 * endpoint (routes.ts). WebServer (server.ts) loads this module on its first request, so a
 * daemon whose web inbox nobody opens never loads fastify.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerRoutes, type WebContext } from './routes.js';

const noSchemas = (): never => {
  throw new Error('The web inbox takes no JSON schemas.');
};

/** The fastify instance the web inbox runs on, before its routes: WebServer's (through `webApp`), and the route tests'. */
export function createWebApp(maxMessageBytes: number, server?: Server): FastifyInstance {
  const app = Fastify({
    // No route declares a JSON schema (bodies are checked by hand, after the CSRF checks): without
    // this, fastify loads its schema compilers (ajv, fast-json-stringify), some 6 MiB for nothing.
    // A route that declares one fails at start.
    schemaController: { compilersFactory: { buildValidator: () => noSchemas, buildSerializer: () => noSchemas } },
    logger: false,
    // A message in UTF-8 is at most 1.5 bytes per UTF-16 byte, JSON escapes at most 3: bound to that.
    bodyLimit: maxMessageBytes * 3 + 16 * 1024,
    // WebServer's own server, already listening: it hands each request to the app (and bounds slow senders itself)
    ...(server === undefined ? { requestTimeout: 30_000, forceCloseConnections: true } : { serverFactory: () => server }),
  });
  // Bodies are text: JSON is parsed by the routes that take it (after the CSRF checks), and
  // ntfy's publish takes the body as the message whatever its type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  return app;
}

export interface WebApp {
  /** Answers one request of the server's. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  close(): Promise<void>;
}

/** The app with its routes, readied, on `server`. */
export async function webApp(server: Server, maxMessageBytes: number, context: WebContext): Promise<WebApp> {
  const app = createWebApp(maxMessageBytes, server);
  registerRoutes(app, context);
  try {
    await app.ready();
  } catch (error) {
    // what its plugins opened goes with it; no other is made (the server keeps the failure)
    await app.close().catch(() => undefined);
    throw error;
  }
  return {
    handle: (request, response) => app.routing(request, response),
    close: () => app.close(),
  };
}
