/**
 * The web routes on fakes, for tests with app.inject(): no daemon, no sockets. The session and
 * stream bookkeeping (WebAuth, PushHub), the access rules and the logon gate are the real ones;
 * the store, the receipts, the control operations and the accounts are small fakes that record
 * what reached them. (Named *.test.helper.ts: not run as a test, not packaged.)
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ControlServices } from '../../control/handlers.js';
import type { MessageEvent, MessageStates } from '../../messenger/events.js';
import { outranks } from '../../messenger/events.js';
import type { MessageQuery, StoredMessage, Via } from '../../messenger/message.js';
import { senderOf } from '../../messenger/sender.js';
import { oemUpperCase } from '../../messenger/names.js';
import { AccessPolicy, type Principal } from '../../security/access.js';
import { foldName, type Credentials } from '../../security/accounts.js';
import type { AuditEntry } from '../../security/audit.js';
import { LogonGate, type LogonLimits } from '../../security/logon-gate.js';
import { WebAuth, type WebAuthLimits } from '../auth.js';
import { PushHub, type PushLimits } from '../push.js';
import { registerRoutes } from '../routes.js';
import { createWebApp } from '../app.js';
import type { RunControl, WebContext } from './context.js';

export const HOST = '127.0.0.1:8139';
export const ORIGIN = `http://${HOST}`;
export const COOKIE = 'netsend_8139';
export const OWNER: Principal = { kind: 'local', name: 'root', uid: 0, groups: ['Administrators'], source: null };

export interface FakeAccount {
  password: string;
  groups: string[];
  token?: string;
}

export interface FakeWebOptions {
  /** Accounts by name; default alice, bob (no groups) and monitor (Server Operators, with a token). */
  accounts?: Record<string, FakeAccount>;
  /** Messages in the store, ids from 1 in this order; `via` local unless given. */
  messages?: ReadonlyArray<{ from: string; to: string; text: string; via?: Via }>;
  /** What control operations answer; default: they succeed (`{ delivered: to, id: 99 }`). */
  control?: RunControl;
  authLimits?: Partial<WebAuthLimits>;
  pushLimits?: Partial<PushLimits>;
  logonLimits?: Partial<LogonLimits>;
}

export interface FakeWeb {
  readonly app: FastifyInstance;
  readonly context: WebContext;
  readonly accounts: Record<string, FakeAccount>;
  readonly audit: Array<Pick<AuditEntry, 'event' | 'principal' | 'source' | 'detail' | 'status'>>;
  readonly controls: Array<{ request: Record<string, unknown>; principal: Principal }>;
  readonly receipts: Array<{ messageId: number; to: string; state: string; surface: string; by: string | null }>;
  /** What the routes told the live stream themselves (read/ack is the receipts' to tell). */
  readonly stateChanges: unknown[];
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

export const DEFAULT_ACCOUNTS: Record<string, FakeAccount> = {
  alice: { password: 'alice-pw', groups: [] },
  bob: { password: 'bob-pw', groups: [] },
  monitor: { password: 'monitor-pw', groups: ['Server Operators'], token: 'monitor-token' },
};

const ALIASES = ['ALICE', 'BOB', 'MONITOR'];

export async function fakeWeb(options: FakeWebOptions = {}): Promise<FakeWeb> {
  const accounts: Record<string, FakeAccount> = structuredClone(options.accounts ?? DEFAULT_ACCOUNTS);
  const audit: FakeWeb['audit'] = [];
  const controls: FakeWeb['controls'] = [];
  const receipts: FakeWeb['receipts'] = [];
  const recordEvent = async ({ id: messageId, to }: Pick<StoredMessage, 'id' | 'to'>, state: 'read' | 'acknowledged', surface: string, by: string | null): Promise<MessageEvent | null> => {
    receipts.push({ messageId, to, state, surface, by });
    if (!messages.some((m) => m.id === messageId)) return null;
    const event: MessageEvent = { id: events.length + 1, messageId, state, surface, by, at: Date.UTC(2024, 1, 1) };
    events.push(event);
    return event;
  };
  const stateChanges: unknown[] = [];
  const messages: StoredMessage[] = (options.messages ?? []).map((m, i) => ({ ...m, id: i + 1, via: m.via ?? 'local', sender: senderOf(), receivedAt: new Date(Date.UTC(2024, 0, 1, 0, i)) }));
  const events: MessageEvent[] = [];

  const principalOf = (name: string, source: string | null): Principal | null => {
    const account = Object.entries(accounts).find(([n]) => foldName(n) === foldName(name));
    return account === undefined ? null : { kind: 'user', name: account[0], uid: null, groups: account[1].groups, source };
  };
  const authenticate = async (credentials: Credentials, source: string | null): Promise<Principal | null> => {
    if ('token' in credentials) {
      const holder = Object.entries(accounts).find(([, a]) => a.token !== undefined && a.token === credentials.token);
      return holder === undefined ? null : principalOf(holder[0], source);
    }
    const principal = principalOf(credentials.user, source);
    return principal !== null && accounts[principal.name]?.password === credentials.password ? principal : null;
  };
  const record = (entry: FakeWeb['audit'][number]) => void audit.push(entry);

  const services = {
    access: new AccessPolicy({ role: 'standalone server', remoteCallGroups: [] }),
    audit: { record },
    accounts: { groupsOf: async (name: string) => principalOf(name, null)?.groups ?? [] },
    messenger: {
      charset: 'CP850',
      computerName: 'INBOX',
      maxMessageBytes: 256,
      aliases: { find: (name: string) => (ALIASES.includes(oemUpperCase(name)) ? { name: oemUpperCase(name) } : undefined) },
    },
  } as unknown as ControlServices;

  const statesOf = (messageId: number): MessageStates | undefined => {
    const mine = events.filter((e) => e.messageId === messageId);
    const latest = mine.at(-1);
    if (latest === undefined) return undefined;
    const surfaces: Record<string, MessageEvent> = {};
    for (const e of mine) if (surfaces[e.surface] === undefined || outranks(e, surfaces[e.surface] as MessageEvent)) surfaces[e.surface] = e;
    return { messageId, latest, surfaces };
  };

  const push = new PushHub(options.pushLimits);
  const stateChanged = push.stateChanged.bind(push);
  push.stateChanged = (to, event) => {
    stateChanges.push({ to, event });
    stateChanged(to, event);
  };

  const context: WebContext = {
    services,
    store: {
      findMessages: async (query: MessageQuery) =>
        messages
          .filter((m) => m.id > query.afterId && (query.beforeId === null || m.id < query.beforeId))
          .filter((m) => query.recipients === null || query.recipients.some((r) => foldName(r) === foldName(m.to)))
          .filter((m) => query.text === null || `${m.from} ${m.to} ${m.text}`.toLowerCase().includes(query.text.toLowerCase()))
          .reverse()
          .slice(0, query.limit),
      getMessage: async (id) => messages.find((m) => m.id === id) ?? null,
      listMessageEvents: async (id) => events.filter((e) => e.messageId === id),
      latestMessageStates: async (ids) => ids.map(statesOf).filter((s): s is MessageStates => s !== undefined),
    },
    receipts: {
      record: recordEvent,
      recordAll: async (many, state, surface, by) => Promise.all(many.map((message) => recordEvent(message, state, surface, by))),
    },
    control:
      options.control ??
      (async (request, principal) => {
        controls.push({ request, principal });
        return request.op === 'names.list' ? [] : { delivered: String(request.to ?? '*'), id: 99 };
      }),
    auth: new WebAuth(options.authLimits),
    push,
    ownerPrincipal: async () => OWNER,
    workgroup: 'WORKGROUP',
    hostNames: new Set(['localhost', 'inbox']),
    cookieName: COOKIE,
    logons: new LogonGate({
      accounts: { authenticate, passwordHolder: async (name, source) => principalOf(name, source), watch: () => () => {} },
      audit: { record },
      ...(options.logonLimits === undefined ? {} : { limits: options.logonLimits }),
    }),
    page: { html: '<!doctype html><title>inbox</title>', js: 'console.log(1)', css: 'body{}' },
  };
  const app = createWebApp(services.messenger.maxMessageBytes);
  registerRoutes(app, context);
  await app.ready();
  // Every request names this host unless the test says otherwise.
  const inject = (request: InjectOptions) => app.inject({ ...request, headers: { host: HOST, ...request.headers } });
  return { app, context, accounts, audit, controls, receipts, stateChanges, inject };
}

/** A page logged in: its cookie and CSRF token, and requests sent as the page sends them. */
export interface PageSession {
  readonly cookie: string;
  readonly csrf: string;
  get(url: string): Promise<LightMyRequestResponse>;
  send(method: 'POST' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string | undefined>): Promise<LightMyRequestResponse>;
}

export async function login(web: FakeWeb, body: { token: string } | { user: string; password: string }): Promise<PageSession> {
  const response = await web.inject({ method: 'POST', url: '/api/login', headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  if (response.statusCode !== 200) throw new Error(`login: ${response.statusCode} ${response.body}`);
  const cookie = String(response.headers['set-cookie']).split(';')[0] as string;
  const csrf = (response.json() as { csrf: string }).csrf;
  return {
    cookie,
    csrf,
    get: (url) => web.inject({ method: 'GET', url, headers: { cookie } }),
    send: (method, url, payload = {}, headers = {}) => {
      const all: Record<string, string | undefined> = { cookie, origin: ORIGIN, 'x-csrf-token': csrf, 'content-type': 'application/json', ...headers };
      const defined = Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
      return web.inject({ method, url, headers: defined, payload: JSON.stringify(payload) });
    },
  };
}

export const ownerLogin = (web: FakeWeb): Promise<PageSession> => login(web, { token: web.context.auth.mintLoginToken() });

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
