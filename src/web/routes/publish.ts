/**
 * ntfy's publish: `curl -d "text" -H "Title: …" -H "Priority: high" -H "Authorization: Bearer TOKEN" http://host:8139/ALIAS`,
 * or the same as query parameters (`/ALIAS?title=…&priority=5&message=…`). Header text may be UTF-8
 * or RFC 2047 encoded-words, as ntfy takes it.
 * Authorization header only: a publisher has no page, so no session and no CSRF token.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { priorityLevel, priorityOfLevel } from '../../messenger/message.js';
import { headerCredentials } from '../auth.js';
import { headerText } from '../header-text.js';
import { badRequest, unauthenticated } from '../errors.js';
import { logon } from './callers.js';
import type { Caller, WebContext } from './context.js';
import { control, ownAlias } from './shared.js';

/** ntfy's priorities: 1-5, or min, low, default, high, urgent (max). */
export function ntfyPriority(value: string | undefined): number {
  if (value === undefined) return 3;
  const level = priorityLevel(value);
  if (level === null) throw badRequest('Priority must be 1-5 or min, low, default, high, urgent, max.');
  return level;
}

export const publishRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  const publish = async (request: FastifyRequest<{ Params: { alias: string } }>, reply: FastifyReply) => {
    const credentials = headerCredentials(request.headers.authorization);
    if (credentials === null) throw unauthenticated();
    if (credentials === 'malformed') throw badRequest('The Authorization header is neither Bearer TOKEN nor Basic user:password.');
    const caller: Caller = { principal: await logon(context, request, credentials), session: null, owner: false };
    // as ntfy: each header may also come as a query parameter of the same name (the header wins)
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const param = (...names: string[]) => {
      const fromHeader = names.map((n) => request.headers[n]).find((v): v is string => typeof v === 'string' && v !== '');
      if (fromHeader !== undefined) return headerText(fromHeader);
      return names.map((n) => query[n.replace(/^x-/, '')]).find((v): v is string => typeof v === 'string' && v !== '');
    };
    const title = param('x-title', 'title', 'ti', 't');
    const priority = ntfyPriority(param('x-priority', 'priority', 'prio', 'p'));
    const raw = typeof request.body === 'string' && request.body !== '' ? request.body.replace(/\r?\n$/, '') : (param('x-message', 'message', 'm') ?? '');
    // blank is empty, as for ntfy: the message is then its word "triggered" (a blank pop-up tells nothing)
    const body = raw.trim() === '' ? '' : raw;
    // ntfy's text for an empty body; the title, if any, is the first line (messages have no title field)
    const message = body === '' && title === undefined ? 'triggered' : body;
    const text = title === undefined ? message : message === '' ? title : `${title}\n${message}`;
    const topic = request.params.alias;
    const result = (await control(context, caller, { op: 'send', to: topic, from: ownAlias(context, caller.principal), text, priority: priorityOfLevel(priority) }, 'ntfy')) as {
      delivered: string;
      id?: number;
    };
    return reply.send({
      ...(result.id === undefined ? {} : { id: result.id }),
      time: Math.floor(Date.now() / 1000),
      event: 'message',
      topic,
      message,
      ...(title === undefined ? {} : { title }),
      priority,
      delivered: result.delivered,
    });
  };
  app.post('/:alias', publish);
  app.put('/:alias', publish);
};
