/** The page: one HTML file, its script and its style; no inline script, so the CSP can forbid it. */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { WebContext } from './context.js';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const pageHeaders = (reply: FastifyReply) => reply.header('Content-Security-Policy', CSP).header('X-Frame-Options', 'DENY');

export const pageRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  app.get('/', (_request, reply) => pageHeaders(reply).type('text/html; charset=utf-8').send(context.page.html));
  app.get('/app.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(context.page.js));
  app.get('/app.css', (_request, reply) => reply.type('text/css; charset=utf-8').send(context.page.css));
};
