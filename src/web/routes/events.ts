/** New messages as they arrive (Server-Sent Events), only those this caller may see. */
import type { FastifyPluginAsync } from 'fastify';
import { foldName } from '../../security/accounts.js';
import { HttpError } from '../errors.js';
import { identify } from './callers.js';
import type { Caller, WebContext } from './context.js';
import { viewerOf, withStates } from './shared.js';

/** Messages replayed to a stream that reconnects (Last-Event-ID); a page further behind reloads. */
const MAX_REPLAY = 200;

export const eventRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  const { auth, push } = context;

  app.get('/api/events', async (request, reply) => {
    // A page that leaves during the login check (a password's scrypt, the store) must not take a
    // slot: its close is seen from before the check, and nothing is opened after it.
    let gone = false;
    const leave = () => (gone = true);
    reply.raw.once('close', leave);
    let caller: Caller & { checkedAt: number };
    try {
      caller = await identify(context, request);
    } finally {
      reply.raw.off('close', leave);
    }
    if (gone || request.socket.destroyed) {
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    const sessionKey = caller.session?.key ?? `header:${foldName(caller.principal.name)}`;
    if (!push.hasRoom(sessionKey)) throw new HttpError(429, 'ERROR_NOT_ENOUGH_MEMORY', 'Too many open inbox pages; close some.');
    const viewer = viewerOf(context, caller);
    const lastSeen = Number(request.headers['last-event-id'] ?? (request.query as Record<string, string | undefined>).after ?? 0);
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Accel-Buffering': 'no',
    });
    const session = caller.session;
    const account = caller.owner ? null : caller.principal.name;
    const { checkedAt } = caller;
    // Ends with the session, and when the account changes (new password, groups or token, deleted):
    // the page reconnects and is checked again.
    const stillAllowed = () => (session === null || auth.isLive(session)) && (account === null || !auth.changedSince(account, checkedAt));
    if (!push.open(response, viewer, sessionKey, stillAllowed)) return;
    // Registered before the catch-up query, so nothing falls between; the page drops repeats by id.
    response.write('retry: 2000\n\n');
    if (Number.isSafeInteger(lastSeen) && lastSeen > 0) {
      const missed = await context.store.findMessages({ beforeId: null, afterId: lastSeen, limit: MAX_REPLAY + 1, text: null, recipients: viewer.seesAll ? null : viewer.recipients });
      push.catchUp(response, await withStates(context, missed.slice(0, MAX_REPLAY)), missed.length > MAX_REPLAY);
    }
  });
};
