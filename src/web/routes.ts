import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { handleRequest, type ControlServices } from '../control/handlers.js';
import { isNetApiError } from '../messenger/errors.js';
import { hasBeenAcknowledged, hasBeenRead, type MessageEvent, type MessageEventInput, type MessageStates } from '../messenger/events.js';
import { messageToJson, priorityLevel, priorityOfLevel, type MessageJson, type StoredMessage } from '../messenger/message.js';
import { oemUpperCase } from '../messenger/names.js';
import { LogonRefused, type LogonGate } from '../security/logon-gate.js';
import type { Principal } from '../security/access.js';
import type { MessageQuery } from '../messenger/message.js';
import { cookieValue, headerCredentials, hostAllowed, originMatches, sameSecret, type WebAuth, type WebSession } from './auth.js';
import { foldName } from '../security/accounts.js';
import { canSee, type PushHub, type Viewer } from './push.js';

/** The store calls the web inbox makes (the daemon hands it the SqliteStore's). */
export interface WebStore {
  findMessages(query: MessageQuery): Promise<StoredMessage[]>;
  getMessage(id: number): Promise<StoredMessage | null>;
  recordMessageEvent(event: MessageEventInput): Promise<MessageEvent | null>;
  listMessageEvents(messageId: number): Promise<MessageEvent[]>;
  latestMessageStates(messageIds: readonly number[]): Promise<MessageStates[]>;
}

export interface WebContext {
  readonly services: ControlServices;
  readonly store: WebStore;
  readonly auth: WebAuth;
  readonly push: PushHub;
  /** The data dir's owner, as the control socket knows it (an administrator). */
  readonly ownerPrincipal: () => Promise<Principal>;
  readonly workgroup: string;
  /** Names this machine answers to besides literal addresses (the DNS-rebinding guard). */
  readonly hostNames: ReadonlySet<string>;
  /** Per port: two daemons on one host must not overwrite each other's cookie. */
  readonly cookieName: string;
  /** The front door's logons: per address and per account, bounded hashing (security/logon-gate.ts). */
  readonly logons: LogonGate;
  readonly page: { readonly html: string; readonly js: string; readonly css: string };
}

/** A message as the page and the API show it: the inbox JSON and what became of it. */
export interface WebMessage extends MessageJson {
  state: { read: boolean; acknowledged: boolean; latest: MessageEvent | null };
}

/** Page size of the inbox API. */
const MAX_PAGE = 200;
/** Messages replayed to a stream that reconnects (Last-Event-ID); a page further behind reloads. */
const MAX_REPLAY = 200;
/** Search text longer than this is refused: nobody types it, and LIKE over it costs. */
const MAX_SEARCH = 200;
const SURFACE = 'web';

/** An authenticated caller: a page's session, or an API client's Authorization header. */
interface Caller {
  readonly principal: Principal;
  readonly session: WebSession | null;
  readonly owner: boolean;
}

class HttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: number,
    readonly statusName: string,
    message: string,
  ) {
    super(message);
  }
}

const unauthenticated = () => new HttpError(401, 5, 'ERROR_ACCESS_DENIED', 'Log in first: a session, or an Authorization header (Bearer token or Basic user:password).');
const forbidden = (why: string) => new HttpError(403, 5, 'ERROR_ACCESS_DENIED', why);
const badRequest = (why: string) => new HttpError(400, 87, 'ERROR_INVALID_PARAMETER', why);
const notFound = () => new HttpError(404, 1168, 'ERROR_NOT_FOUND', 'No such message.');

export function registerRoutes(app: FastifyInstance, context: WebContext): void {
  const { auth, push, services, store } = context;

  // Aliases as messages are stored: upper case in the OEM code page (normalizeAlias), so É is É
  // in the list's SQL (NOCASE folds ASCII only) as on the live stream.
  const viewerOf = (caller: Caller): Viewer => ({
    seesAll: caller.owner || services.access.isAdmin(caller.principal),
    recipients: [oemUpperCase(caller.principal.name, services.messenger.charset), oemUpperCase(context.workgroup, services.messenger.charset)],
  });

  const render = (message: StoredMessage, states?: MessageStates): WebMessage => ({
    ...messageToJson(message),
    state: { read: hasBeenRead(states), acknowledged: hasBeenAcknowledged(states), latest: states?.latest ?? null },
  });
  push.setRenderer((message) => render(message));

  const withStates = async (messages: StoredMessage[]): Promise<WebMessage[]> => {
    const states = new Map((await store.latestMessageStates(messages.map((m) => m.id))).map((s) => [s.messageId, s]));
    return messages.map((m) => render(m, states.get(m.id)));
  };

  /**
   * Where a call comes from, for the audit log and the logon limiter: the address without the
   * port. Each connection has a port of its own, so keyed on address:port a flood of refused
   * logons would get a fresh audit allowance per connection.
   */
  const source = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';

  /** A refused logon: audited under the address, and the answer to give. */
  const refuseLogon = (request: FastifyRequest, who: string, why: string, httpStatus = 401, message = 'The user name, password or token is incorrect.') => {
    services.audit.record({ event: 'refused-logon', principal: who, source: source(request), detail: `web: ${why}`, status: 5 });
    return new HttpError(httpStatus, 5, 'ERROR_ACCESS_DENIED', httpStatus === 429 ? 'Too many logon attempts from this address; wait and try again.' : message);
  };

  /** Charges a logon attempt to the address before the check (given back on success). */
  const chargeLogon = (request: FastifyRequest, who: string) => {
    if (!context.logons.charge(source(request))) throw refuseLogon(request, who, 'rate', 429);
  };

  /** Logs in with a password or API token, through the front door's logon gate (charged, audited). */
  const logon = async (request: FastifyRequest, credentials: { token: string } | { user: string; password: string }): Promise<Principal> => {
    try {
      return await context.logons.logon(credentials, source(request), 'web');
    } catch (error) {
      if (!(error instanceof LogonRefused)) throw error;
      // the gate's answer as HTTP: 429 for "wait", 401 for wrong credentials
      throw new HttpError(error.wait ? 429 : 401, 5, 'ERROR_ACCESS_DENIED', error.words);
    }
  };

  /**
   * Who is calling: the Authorization header wins over the cookie (API clients send no cookie).
   * `checkedAt` is the account-change tick before the check: what is built on the answer (a
   * stream) ends when the account changes after it.
   */
  const identify = async (request: FastifyRequest): Promise<Caller & { checkedAt: number }> => {
    const credentials = headerCredentials(request.headers.authorization);
    if (credentials === 'malformed') throw badRequest('The Authorization header is neither Bearer TOKEN nor Basic user:password.');
    if (credentials !== null) {
      const checkedAt = auth.tick;
      return { principal: await logon(request, credentials), session: null, owner: false, checkedAt };
    }
    const session = auth.session(cookieValue(request.headers.cookie, context.cookieName));
    if (session === null) throw unauthenticated();
    // The account's groups changed since they were read: read them again (a new password or a
    // deleted account has already ended the session).
    if (session.account !== null && auth.changedSince(session.account, session.checked)) {
      const checkedAt = auth.tick;
      const groups = await services.accounts.groupsOf(session.principal.name);
      if (!auth.isLive(session)) throw unauthenticated();
      session.principal = { ...session.principal, groups };
      session.checked = checkedAt;
    }
    return { principal: session.principal, session, owner: session.owner, checkedAt: session.checked };
  };

  /**
   * A change from a page must prove it came from the page: the session's CSRF token in a header
   * (another site cannot read it) and an Origin naming this host. Header-authenticated API
   * clients carry no ambient credentials, so they need neither.
   */
  const mutating = async (request: FastifyRequest): Promise<Caller> => {
    const caller = await identify(request);
    if (caller.session !== null) {
      if (!originMatches(request.headers.origin, request.headers.host)) throw forbidden('The request did not come from this page (Origin does not match Host).');
      if (!sameSecret(request.headers['x-csrf-token'], caller.session.csrf)) throw forbidden('The CSRF token is missing or wrong: reload the page.');
    }
    return caller;
  };

  const jsonBody = (request: FastifyRequest): Record<string, unknown> => {
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 87, 'ERROR_INVALID_PARAMETER', 'Send JSON (Content-Type: application/json).');
    let value: unknown;
    try {
      value = JSON.parse(typeof request.body === 'string' ? request.body : '');
    } catch {
      throw badRequest('The body is not valid JSON.');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('The body must be a JSON object.');
    return value as Record<string, unknown>;
  };

  /**
   * Runs a control operation under the control socket's access rules (and its audit), and its
   * messages through the front door as coming over the web (or ntfy's publish).
   */
  const control = (caller: Caller, request: Record<string, unknown>, over: 'web' | 'ntfy' = 'web') =>
    handleRequest(services, request, { ...caller.principal, over });

  /** The message, if this caller may see it; else "no such message", so ids reveal nothing. */
  const visibleMessage = async (caller: Caller, rawId: unknown): Promise<StoredMessage> => {
    const id = Number(rawId);
    if (!Number.isSafeInteger(id) || id <= 0) throw notFound();
    const message = await store.getMessage(id);
    if (message === null || !canSee(viewerOf(caller), message.to)) throw notFound();
    return message;
  };

  /** From whom a page's message goes: the caller's own alias here, else the computer name. */
  const ownAlias = (principal: Principal): string | null => {
    const alias = principal.name === '' ? undefined : services.messenger.aliases.find(principal.name);
    return alias?.name ?? null;
  };

  /** NET SEND's targets: NAME, `*` (the workgroup) or `/domain[:NAME]`. */
  const sendTo = (caller: Caller, to: unknown, text: unknown, from: string | null) => {
    if (typeof to !== 'string' || to.trim() === '') throw badRequest('Say whom the message is for.');
    const target = to.trim();
    const domain = /^\/domain(?::(.*))?$/i.exec(target);
    if (target === '*' || domain) {
      return control(caller, { op: 'broadcast', from, text, domain: domain?.[1] ? domain[1] : null });
    }
    return control(caller, { op: 'send', to: target, from, text });
  };

  const record = async (caller: Caller, message: StoredMessage, state: 'read' | 'acknowledged') => {
    const event = await store.recordMessageEvent({ messageId: message.id, state, surface: SURFACE, by: caller.principal.name || null });
    if (event === null) throw notFound();
    push.stateChanged(message.to, event);
    return (await withStates([message]))[0];
  };

  app.addHook('onRequest', async (request, reply) => {
    // DNS rebinding: only literal addresses and this machine's own names are served
    if (!hostAllowed(request.headers.host, context.hostNames)) {
      return reply.code(421).type('application/json').send({ status: 5, name: 'ERROR_ACCESS_DENIED', message: 'This server does not answer to that host name.' });
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
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ status: 50, name: 'ERROR_NOT_SUPPORTED', message: `There is no ${request.method} ${request.url.split('?')[0]?.slice(0, 200)} here.` }),
  );

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof HttpError) return reply.code(error.httpStatus).send({ status: error.status, name: error.statusName, message: error.message });
    if (isNetApiError(error)) {
      const http = error.statusName === 'ERROR_ACCESS_DENIED' ? 403 : error.statusName === 'NERR_NameNotFound' || error.statusName === 'ERROR_NOT_FOUND' ? 404 : error.statusName === 'NERR_NetworkError' ? 502 : error.statusName === 'NERR_NameInUse' ? 429 : 400;
      // a rate limit at the front door: try again once a token is back (1 / "source message rate")
      if (http === 429) reply.header('Retry-After', '1');
      return reply.code(http).send(error.toJSON());
    }
    const statusCode = (error as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return reply.code(statusCode).send({ status: 87, name: 'ERROR_INVALID_PARAMETER', message: (error as Error).message });
    }
    return reply.code(500).send({ status: 2140, name: 'NERR_InternalError', message: 'An internal error occurred.' });
  });

  // The page: one HTML file, its script and its style; no inline script, so the CSP can forbid it.
  const pageHeaders = (reply: FastifyReply) =>
    reply
      .header('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
      .header('X-Frame-Options', 'DENY');
  app.get('/', (_request, reply) => pageHeaders(reply).type('text/html; charset=utf-8').send(context.page.html));
  app.get('/app.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(context.page.js));
  app.get('/app.css', (_request, reply) => reply.type('text/css; charset=utf-8').send(context.page.css));

  app.get('/api/session', async (request) => {
    const caller = await identify(request);
    return {
      user: caller.principal.name,
      owner: caller.owner,
      admin: services.access.isAdmin(caller.principal),
      csrf: caller.session?.csrf ?? null,
      computerName: services.messenger.computerName,
      workgroup: context.workgroup,
      from: ownAlias(caller.principal) ?? services.messenger.computerName,
      canSend: services.access.problem(caller.principal, 'send') === null,
      canManageAliases: services.access.problem(caller.principal, 'names.add') === null,
      maxMessageBytes: services.messenger.maxMessageBytes,
    };
  });

  // Logging in: a one-time token (the owner's URL) or an account's user name and password.
  app.post('/api/login', async (request, reply) => {
    if (!originMatches(request.headers.origin, request.headers.host)) throw forbidden('The login did not come from this page (Origin does not match Host).');
    const body = jsonBody(request);
    let principal: Principal;
    let owner = false;
    const checkedAt = auth.tick;
    if (body.token !== undefined) {
      // charged to the address like a password: guessing links is guessing passwords
      chargeLogon(request, 'one-time login');
      if (!auth.consumeLoginToken(body.token)) {
        throw refuseLogon(request, 'one-time login', 'the login link was used or has expired', 401, 'This login link was already used or has expired: ask for a new one with "netsend web url".');
      }
      context.logons.refund(source(request));
      principal = await context.ownerPrincipal();
      owner = true;
    } else if (typeof body.user === 'string' && typeof body.password === 'string') {
      principal = await logon(request, { user: body.user, password: body.password });
    } else {
      throw badRequest('Send {"user","password"} or {"token"}.');
    }
    const created = auth.createSession(principal, owner, checkedAt);
    if (created === null) throw new HttpError(503, 8, 'ERROR_NOT_ENOUGH_MEMORY', 'Too many web sessions are open on this server; try again later.');
    const { id, session } = created;
    const maxAge = Math.floor(auth.sessionLifetimeMs / 1000);
    reply.header('Set-Cookie', `${context.cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`);
    return { user: principal.name, owner, csrf: session.csrf };
  });

  app.post('/api/logout', async (request, reply) => {
    const caller = await mutating(request);
    if (caller.session !== null) {
      auth.end(caller.session);
      push.closeSession(caller.session.key);
    }
    reply.header('Set-Cookie', `${context.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { loggedOut: true };
  });

  app.get('/api/messages', async (request) => {
    const caller = await identify(request);
    const query = request.query as Record<string, string | undefined>; // strings only: the onRequest hook
    const number = (value: string | undefined, fallback: number, what: string) => {
      if (value === undefined || value === '') return fallback;
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`${what} must be a whole number.`);
      return n;
    };
    const q = query.q ?? '';
    if (q.length > MAX_SEARCH) throw badRequest(`Search for at most ${MAX_SEARCH} characters.`);
    const viewer = viewerOf(caller);
    const before = number(query.before, 0, 'before');
    const messages = await store.findMessages({
      beforeId: before === 0 ? null : before,
      afterId: number(query.after, 0, 'after'),
      limit: Math.min(Math.max(number(query.limit, 50, 'limit'), 1), MAX_PAGE),
      text: q === '' ? null : q,
      recipients: viewer.seesAll ? null : viewer.recipients,
    });
    return { messages: await withStates(messages) };
  });

  app.get('/api/messages/:id', async (request) => {
    const caller = await identify(request);
    const message = await visibleMessage(caller, (request.params as { id: string }).id);
    return { ...(await withStates([message]))[0], events: await store.listMessageEvents(message.id) };
  });

  app.post('/api/messages/:id/read', async (request) => {
    const caller = await mutating(request);
    return record(caller, await visibleMessage(caller, (request.params as { id: string }).id), 'read');
  });

  app.post('/api/messages/:id/ack', async (request) => {
    const caller = await mutating(request);
    return record(caller, await visibleMessage(caller, (request.params as { id: string }).id), 'acknowledged');
  });

  // A reply goes to the sender's alias, from the alias the message was for (when it is one here).
  app.post('/api/messages/:id/reply', async (request) => {
    const caller = await mutating(request);
    const message = await visibleMessage(caller, (request.params as { id: string }).id);
    const body = jsonBody(request);
    const from = services.messenger.aliases.find(message.to)?.name ?? ownAlias(caller.principal);
    return control(caller, { op: 'send', to: message.from, from, text: body.text });
  });

  app.post('/api/send', async (request) => {
    const caller = await mutating(request);
    const body = jsonBody(request);
    return sendTo(caller, body.to, body.text, ownAlias(caller.principal));
  });

  app.get('/api/aliases', async (request) => control(await identify(request), { op: 'names.list' }));

  app.post('/api/aliases', async (request) => {
    const caller = await mutating(request);
    return control(caller, { op: 'names.add', name: jsonBody(request).name });
  });

  app.delete('/api/aliases/:name', async (request) => {
    const caller = await mutating(request);
    return control(caller, { op: 'names.delete', name: (request.params as { name: string }).name });
  });

  // New messages as they arrive (Server-Sent Events), only those this caller may see.
  app.get('/api/events', async (request, reply) => {
    // A page that leaves during the login check (a password's scrypt, the store) must not take a
    // slot: its close is seen from before the check, and nothing is opened after it.
    let gone = false;
    const leave = () => (gone = true);
    reply.raw.once('close', leave);
    let caller: Caller & { checkedAt: number };
    try {
      caller = await identify(request);
    } finally {
      reply.raw.off('close', leave);
    }
    if (gone || request.socket.destroyed) {
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    const sessionKey = caller.session?.key ?? `header:${foldName(caller.principal.name)}`;
    if (!push.hasRoom(sessionKey)) throw new HttpError(429, 8, 'ERROR_NOT_ENOUGH_MEMORY', 'Too many open inbox pages; close some.');
    const viewer = viewerOf(caller);
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
      const missed = await store.findMessages({ beforeId: null, afterId: lastSeen, limit: MAX_REPLAY + 1, text: null, recipients: viewer.seesAll ? null : viewer.recipients });
      push.catchUp(response, await withStates(missed.slice(0, MAX_REPLAY)), missed.length > MAX_REPLAY);
    }
  });

  // ntfy's publish: `curl -d "text" -H "Title: …" -H "Priority: high" -H "Authorization: Bearer TOKEN" http://host:8139/ALIAS`
  const publish = async (request: FastifyRequest, reply: FastifyReply) => {
    const credentials = headerCredentials(request.headers.authorization);
    if (credentials === null) throw unauthenticated();
    if (credentials === 'malformed') throw badRequest('The Authorization header is neither Bearer TOKEN nor Basic user:password.');
    const caller: Caller = { principal: await logon(request, credentials), session: null, owner: false };
    const header = (...names: string[]) => names.map((n) => request.headers[n]).find((v): v is string => typeof v === 'string' && v !== '');
    const title = header('x-title', 'title', 'ti', 't');
    const priority = ntfyPriority(header('x-priority', 'priority', 'prio', 'p'));
    const raw = typeof request.body === 'string' ? request.body.replace(/\r?\n$/, '') : '';
    // blank is empty, as for ntfy: the message is then its word "triggered" (a blank pop-up tells nothing)
    const body = raw.trim() === '' ? '' : raw;
    // ntfy's text for an empty body; the title, if any, is the first line (messages have no title field)
    const message = body === '' && title === undefined ? 'triggered' : body;
    const text = title === undefined ? message : message === '' ? title : `${title}\n${message}`;
    const topic = (request.params as { alias: string }).alias;
    const result = (await control(caller, { op: 'send', to: topic, from: ownAlias(caller.principal), text, priority: priorityOfLevel(priority) }, 'ntfy')) as {
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
}


/** ntfy's priorities: 1-5, or min, low, default, high, urgent (max). */
export function ntfyPriority(value: string | undefined): number {
  if (value === undefined) return 3;
  const level = priorityLevel(value);
  if (level === null) throw badRequest('Priority must be 1-5 or min, low, default, high, urgent, max.');
  return level;
}
