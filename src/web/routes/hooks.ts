/**
 * What every request goes through, whichever area answers it: the host check, the common
 * headers, one value per query parameter, and one error body for every failure.
 */
import type { FastifyInstance } from 'fastify';
import { hostAllowed } from '../auth.js';
import { answerFor, badRequest, HttpError, noSuchRoute } from '../errors.js';
import type { WebContext } from './context.js';

const misdirected = new HttpError(421, 'ERROR_ACCESS_DENIED', 'This server does not answer to that host name.');

/** Installed on the root instance, so every area's plugin and the not-found answer share them. */
export function installGuards(app: FastifyInstance, context: Pick<WebContext, 'hostNames'>): void {
  app.addHook('onRequest', async (request, reply) => {
    // DNS rebinding: only literal addresses and this machine's own names are served
    if (!hostAllowed(request.headers.host, context.hostNames)) {
      return reply.code(misdirected.httpStatus).type('application/json').send(misdirected.body);
    }
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cache-Control', 'no-store');
    // Every query parameter is one string: `?q=a&q=b` (an array) is refused here, for every route
    const query = request.query;
    if (typeof query === 'object' && query !== null) {
      for (const [name, value] of Object.entries(query)) {
        if (typeof value !== 'string') throw badRequest(`The query parameter "${name.slice(0, 64)}" must be given once.`);
      }
    }
    return undefined;
  });

  // Unknown paths and methods answer as every other error does
  app.setNotFoundHandler((request, reply) => reply.code(404).send(noSuchRoute(request.method, request.url.split('?')[0]?.slice(0, 200) ?? '')));

  app.setErrorHandler((error: unknown, _request, reply) => {
    const { code, headers, body } = answerFor(error);
    if (headers !== undefined) reply.headers(headers);
    return reply.code(code).send(body);
  });
}
