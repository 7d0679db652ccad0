/**
 * ntfy's publish: `curl -d "text" -H "Title: …" -H "Priority: high" -H "Authorization: Bearer TOKEN" http://host:8139/ALIAS`,
 * the same as query parameters (`/ALIAS?title=…&priority=5&message=…`), or JSON to the root URL
 * (`{"topic": "ALIAS", "message": "…", "title": "…", "priority": 4}`). Header text may be UTF-8
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
import { control, jsonObject, ownAlias } from './shared.js';

/** ntfy's priorities: 1-5, or min, low, default, high, urgent (max). */
export function ntfyPriority(value: string | undefined): number {
  if (value === undefined) return 3;
  const level = priorityLevel(value);
  if (level === null) throw badRequest('Priority must be 1-5 or min, low, default, high, urgent, max.');
  return level;
}

/** One publish, however it came: the topic (an alias), the body's text, and ntfy's fields netsend takes. */
interface Publication {
  readonly topic: string;
  readonly body: string;
  readonly title: string | undefined;
  readonly priority: string | undefined;
}

export const publishRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  const publish = async (request: FastifyRequest, reply: FastifyReply, read: (request: FastifyRequest) => Publication) => {
    const credentials = headerCredentials(request.headers.authorization);
    if (credentials === null) throw unauthenticated();
    if (credentials === 'malformed') throw badRequest('The Authorization header is neither Bearer TOKEN nor Basic user:password.');
    const caller: Caller = { principal: await logon(context, request, credentials), session: null, owner: false };
    const { topic, body, title, priority: given } = read(request);
    const priority = ntfyPriority(given);
    // ntfy's text for a body that is empty or blank (a blank pop-up tells nothing)
    const message = body.trim() === '' ? 'triggered' : body;
    const result = (await control(context, caller, {
      op: 'send', to: topic, from: ownAlias(context, caller.principal), text: message, title: title ?? null, priority: priorityOfLevel(priority),
    }, 'ntfy')) as { delivered: string; id?: number };
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

  /** `POST /ALIAS`: the body is the text; each header may also come as a query parameter of the same name (the header wins). */
  const fromHeaders = (request: FastifyRequest): Publication => {
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const param = (...names: string[]) => {
      const fromHeader = names.map((n) => request.headers[n]).find((v): v is string => typeof v === 'string' && v !== '');
      if (fromHeader !== undefined) return headerText(fromHeader);
      return names.map((n) => query[n.replace(/^x-/, '')]).find((v): v is string => typeof v === 'string' && v !== '');
    };
    const body = typeof request.body === 'string' && request.body !== '' ? request.body.replace(/\r?\n$/, '') : (param('x-message', 'message', 'm') ?? '');
    return {
      topic: (request.params as { alias: string }).alias,
      body,
      title: param('x-title', 'title', 'ti', 't'),
      priority: param('x-priority', 'priority', 'prio', 'p'),
    };
  };

  /** `POST /` with a JSON object, whatever its Content-Type (ntfy reads it so; curl -d sends a form type). */
  const fromJson = (request: FastifyRequest): Publication => {
    const { topic, message, title, priority } = jsonObject(request.body, {
      notJson: 'Publishing to the root URL takes a JSON object: {"topic": "ALIAS", "message": "…"}.',
      notObject: 'The body must be a JSON object: {"topic": "ALIAS", "message": "…"}.',
    });
    if (typeof topic !== 'string' || topic === '') throw badRequest('"topic" is missing: the alias to send to, as in {"topic": "ALICE", "message": "…"}.');
    const optional = (field: string, v: unknown) => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw badRequest(`"${field}" must be a string.`);
      return v;
    };
    if (priority !== undefined && priority !== null && typeof priority !== 'number' && typeof priority !== 'string') throw badRequest('"priority" must be 1-5.');
    return { topic, body: optional('message', message) ?? '', title: optional('title', title), priority: priority === undefined || priority === null ? undefined : String(priority) };
  };

  app.post('/', (request, reply) => publish(request, reply, fromJson));
  app.put('/', (request, reply) => publish(request, reply, fromJson));
  app.post('/:alias', (request, reply) => publish(request, reply, fromHeaders));
  app.put('/:alias', (request, reply) => publish(request, reply, fromHeaders));
};
