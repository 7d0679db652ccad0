/** The inbox: the list (with search and paging), one message with its events, read (one or all), acknowledge and reply. */
import type { FastifyPluginAsync } from 'fastify';
import { hasBeenRead } from '../../messenger/events.js';
import { badRequest, notFound } from '../errors.js';
import { identify, mutating } from './callers.js';
import type { Caller, WebContext, WebMessage } from './context.js';
import { control, jsonBody, ownAlias, viewerOf, visibleMessage, withStates } from './shared.js';

/** Page size of the inbox API. */
const MAX_PAGE = 200;
/** Search text longer than this is refused: nobody types it, and LIKE over it costs. */
const MAX_SEARCH = 200;
/** The surface a page's read and acknowledge are recorded under. */
const SURFACE = 'web';
/**
 * "Mark all read": messages marked per call, and messages looked at to find them (a long read
 * history costs a bounded amount per call); past either the answer says `more`, and where to go on.
 */
export const READ_ALL_LIMITS = { mark: 200, scan: 1000 } as const;

type IdParams = { Params: { id: string } };

/** A query parameter that must be a whole number (strings only: the onRequest hook). */
const wholeNumber = (value: string | undefined, fallback: number, what: string): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`${what} must be a whole number.`);
  return n;
};

export const messageRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  /** Through the receipts, which tell the open pages of the new state once it is stored. */
  const record = async (caller: Caller, rawId: string, state: 'read' | 'acknowledged'): Promise<WebMessage | undefined> => {
    const message = await visibleMessage(context, caller, rawId);
    const event = await context.receipts.record(message, state, SURFACE, caller.principal.name || null);
    if (event === null) throw notFound();
    return (await withStates(context, [message]))[0];
  };

  app.get('/api/messages', async (request) => {
    const caller = await identify(context, request);
    const query = request.query as Record<string, string | undefined>; // strings only: the onRequest hook
    const q = query.q ?? '';
    if (q.length > MAX_SEARCH) throw badRequest(`Search for at most ${MAX_SEARCH} characters.`);
    const viewer = viewerOf(context, caller);
    const before = wholeNumber(query.before, 0, 'before');
    const messages = await context.store.findMessages({
      beforeId: before === 0 ? null : before,
      afterId: wholeNumber(query.after, 0, 'after'),
      limit: Math.min(Math.max(wholeNumber(query.limit, 50, 'limit'), 1), MAX_PAGE),
      text: q === '' ? null : q,
      recipients: viewer.seesAll ? null : viewer.recipients,
    });
    return { messages: await withStates(context, messages) };
  });

  app.get<IdParams>('/api/messages/:id', async (request) => {
    const caller = await identify(context, request);
    const message = await visibleMessage(context, caller, request.params.id);
    return { ...(await withStates(context, [message]))[0], events: await context.store.listMessageEvents(message.id) };
  });

  app.post<IdParams>('/api/messages/:id/read', async (request) => record(await mutating(context, request), request.params.id, 'read'));

  // Every unread message the caller can see (below `before`, when given: what the page has shown),
  // newest first, each recorded as a single read is, so its sender's receipt says read. Bounded
  // per call: `more` and `before` say where the next call goes on.
  app.post('/api/messages/read-all', async (request) => {
    const caller = await mutating(context, request);
    const query = request.query as Record<string, string | undefined>;
    const before = wholeNumber(query.before, 0, 'before');
    const viewer = viewerOf(context, caller);
    const by = caller.principal.name || null;
    const marked: number[] = [];
    let cursor: number | null = before === 0 ? null : before;
    let scanned = 0;
    for (;;) {
      const limit = Math.min(MAX_PAGE, READ_ALL_LIMITS.scan - scanned);
      const page = await context.store.findMessages({ beforeId: cursor, afterId: 0, limit, text: null, recipients: viewer.seesAll ? null : viewer.recipients });
      const states = new Map((await context.store.latestMessageStates(page.map((m) => m.id))).map((s) => [s.messageId, s]));
      // this page's unread ones, up to what this call may still mark, recorded in one commit
      const unread: typeof page = [];
      let considered = 0;
      for (const message of page) {
        if (marked.length + unread.length >= READ_ALL_LIMITS.mark) break;
        cursor = message.id;
        scanned++;
        considered++;
        if (!hasBeenRead(states.get(message.id))) unread.push(message);
      }
      const events = await context.receipts.recordAll(unread, 'read', SURFACE, by);
      // a message gone since the list was read is skipped: there is nothing left to mark
      unread.forEach((message, i) => {
        if (events[i] !== null) marked.push(message.id);
      });
      if (marked.length >= READ_ALL_LIMITS.mark) return { marked, more: true, before: cursor };
      // stopped short of the page's end for the quota, and some were gone: on from the cursor
      if (considered < page.length) continue;
      if (page.length < limit) return { marked, more: false, before: null };
      if (scanned >= READ_ALL_LIMITS.scan) return { marked, more: true, before: cursor };
    }
  });

  app.post<IdParams>('/api/messages/:id/ack', async (request) => record(await mutating(context, request), request.params.id, 'acknowledged'));

  // A reply goes to the sender's alias, from the alias the message was for (when it is one here).
  app.post<IdParams>('/api/messages/:id/reply', async (request) => {
    const caller = await mutating(context, request);
    const message = await visibleMessage(context, caller, request.params.id);
    const body = jsonBody(request);
    const from = context.services.messenger.aliases.find(message.to)?.name ?? ownAlias(context, caller.principal);
    return control(context, caller, { op: 'send', to: message.from, from, text: body.text });
  });
};
