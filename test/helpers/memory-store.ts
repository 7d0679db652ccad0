/**
 * The store in memory, for tests: the same ports as SqliteStore (src/store/ports.ts) with the same
 * semantics, which test/helpers/store-contract.ts checks against both. Where SQLite decides
 * something (NOCASE names, LIKE search, LIMIT, a unique credential hash), this does what it does.
 */
import type { StoredAlias } from '../../src/messenger/aliases.js';
import { MESSAGE_STATES, outranks, type MessageEvent, type MessageStates } from '../../src/messenger/events.js';
import type { IncomingMessage, MessageQuery, StoredMessage } from '../../src/messenger/message.js';
import type { AccountStore, StoredCredential } from '../../src/security/accounts.js';
import type { AuditRecord, AuditStore } from '../../src/security/audit.js';
import { MAX_STATE_QUERY } from '../../src/store/events.js';
import { senderColumns, senderFromColumns } from '../../src/store/messages.js';
import type { AliasPort, EventPort, MessagePort, PolicyPort, StorePorts } from '../../src/store/ports.js';

export interface MemoryStoreOptions {
  /** The clock (ms since the epoch) for receivedAt and the times the store records; default Date.now. */
  readonly now?: () => number;
  /** What `aliases.addedAliases` holds, as if stored before the store opened. */
  readonly addedAliases?: readonly StoredAlias[];
}

/** SQLite's NOCASE: only ASCII letters fold. */
const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const sameName = (a: string, b: string): boolean => fold(a) === fold(b);
/** SQLite compares text as UTF-8 bytes (BINARY), NOCASE after folding. */
const binary = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const nocase = (a: string, b: string): number => binary(fold(a), fold(b));
/** LIMIT: a negative limit is no limit. */
const take = <T>(rows: T[], limit: number): T[] => (limit < 0 ? rows : rows.slice(0, limit));
const copy = (m: StoredMessage): StoredMessage => ({ ...m, receivedAt: new Date(m.receivedAt.getTime()) });
const seenStates: ReadonlySet<string> = new Set(['shown', 'read', 'acknowledged', 'expired']);

/** What SQLite throws for a broken constraint, with its code. */
function constraint(code: string, message: string): Error {
  return Object.assign(Object.defineProperty(new Error(message), 'name', { value: 'SqliteError', writable: true, configurable: true }), { code });
}

/** Each function of the port rejects once the store is closed, as the SQLite store does. */
function guarded<T extends object>(closed: () => boolean, port: T): T {
  const entries = Object.entries(port).map(([key, value]) => [
    key,
    typeof value !== 'function'
      ? value
      : async (...args: unknown[]) => {
          if (closed()) throw new Error('The store is closed');
          return (value as (...a: unknown[]) => unknown)(...args);
        },
  ]);
  return Object.freeze(Object.fromEntries(entries)) as T;
}

export class MemoryStore implements StorePorts {
  readonly #now: () => number;
  #closed = false;
  readonly #messages: StoredMessage[] = [];
  readonly #events: MessageEvent[] = [];
  readonly #users: Array<{ name: string; passwordHash: string | null }> = [];
  readonly #memberships: Array<{ user: string; group: string }> = [];
  readonly #tokens: Array<{ hash: string; user: string; createdAt: number; hostKey: string | null }> = [];
  readonly #audit: AuditRecord[] = [];
  readonly #policies = new Map<string, string>();
  /** Written, never read back: SQLite reads its aliases only when it opens (addedAliases), and this store never reopens. */
  readonly #aliases = new Map<string, number | null>();

  readonly messages: MessagePort;
  readonly events: EventPort;
  readonly accounts: AccountStore;
  readonly audit: AuditStore;
  readonly policies: PolicyPort;
  readonly aliases: AliasPort;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    const closed = () => this.#closed;
    this.messages = guarded<MessagePort>(closed, {
      append: async (message) => this.#append(message),
      list: async ({ afterId, limit, recipients = null }) => take(this.#to(recipients).filter((m) => m.id > afterId), limit).map(copy),
      latest: async ({ limit, recipients = null, beforeId = null }) => this.#find({ beforeId, afterId: 0, limit, text: null, recipients }).reverse(),
      findMessages: async (query) => this.#find(query),
      getMessage: async (id) => {
        const found = this.#messages.find((m) => m.id === id);
        return found === undefined ? null : copy(found);
      },
    });
    this.events = guarded<EventPort>(closed, {
      recordMessageEvent: async (event) => {
        if (!MESSAGE_STATES.includes(event.state)) throw constraint('SQLITE_CONSTRAINT_CHECK', `CHECK constraint failed: state IN (${MESSAGE_STATES.map((s) => `'${s}'`).join(', ')})`);
        if (!this.#messages.some((m) => m.id === event.messageId)) return null;
        const stored: MessageEvent = { id: this.#events.length + 1, messageId: event.messageId, state: event.state, surface: event.surface, by: event.by, at: this.#now() };
        this.#events.push(stored);
        return { ...event, id: stored.id, at: stored.at };
      },
      recordMessageEvents: async (events) => {
        const recorded = [];
        for (const event of events) recorded.push(await this.events.recordMessageEvent(event));
        return recorded;
      },
      listMessageEvents: async (messageId) => this.#events.filter((e) => e.messageId === messageId).map((e) => ({ ...e })),
      latestMessageStates: async (ids) => this.#states(ids),
      expiredMessages: async (after, now, receivedBefore, limit) =>
        take(this.#unseen(receivedBefore).filter((m) => (m.expiresAt! > after.expiresAt || (m.expiresAt === after.expiresAt && m.id > after.id)) && m.expiresAt! <= now), limit).map(copy),
      waitingMessages: async (after, now, receivedBefore, limit) => {
        const [afterExpiry, afterId] = [after?.expiresAt ?? now, after?.id ?? 0];
        const alive = this.#unseen(receivedBefore).filter((m) => m.expiresAt! > now && (m.expiresAt! > afterExpiry || (m.expiresAt === afterExpiry && m.id > afterId)));
        return take(alive, limit).map(copy);
      },
    });
    this.accounts = guarded<AccountStore>(closed, {
      getUser: async (name) => {
        const user = this.#users.find((u) => sameName(u.name, name));
        return user === undefined ? null : { name: user.name, passwordHash: user.passwordHash, groups: this.#groupsOf(user.name) };
      },
      putUser: async (name, passwordHash) => {
        const user = this.#users.find((u) => sameName(u.name, name));
        if (user === undefined) this.#users.push({ name, passwordHash });
        else user.passwordHash = passwordHash;
      },
      deleteUser: async (name) => {
        remove(this.#memberships, (m) => sameName(m.user, name));
        remove(this.#tokens, (t) => sameName(t.user, name));
        return remove(this.#users, (u) => sameName(u.name, name)) > 0;
      },
      listUsers: async () =>
        [...this.#users]
          .sort((a, b) => nocase(a.name, b.name))
          .map((u) => ({ name: u.name, groups: this.#groupsOf(u.name), tokens: this.#tokens.filter((t) => sameName(t.user, u.name)).length, hasPassword: u.passwordHash !== null })),
      setMembership: async (user, group, member) => {
        const match = (m: { user: string; group: string }) => sameName(m.user, user) && sameName(m.group, group);
        if (!member) remove(this.#memberships, match);
        else if (!this.#memberships.some(match)) this.#memberships.push({ user, group });
      },
      addToken: async (hash, user, hostKey = null) => {
        if (this.#tokens.some((t) => t.hash === hash)) throw constraint('SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed: tokens.hash');
        this.#tokens.push({ hash, user, createdAt: this.#now(), hostKey });
      },
      userForToken: async (hash) => this.#tokens.find((t) => t.hash === hash)?.user ?? null,
      listTokens: async (user) =>
        this.#tokens
          .filter((t) => sameName(t.user, user))
          .sort((a, b) => a.createdAt - b.createdAt || binary(a.hash, b.hash))
          .map((t): StoredCredential => ({ hash: t.hash, hostKey: t.hostKey, createdAt: t.createdAt })),
      deleteTokens: async (user, hashes) => remove(this.#tokens, (t) => sameName(t.user, user) && (hashes === null || hashes.includes(t.hash))),
    });
    this.audit = guarded<AuditStore>(closed, {
      appendAudit: async (entry) => {
        const id = this.#audit.length + 1;
        this.#audit.push({ id, at: this.#now(), event: entry.event, principal: entry.principal, source: entry.source, detail: entry.detail, status: entry.status });
        return id;
      },
      listAudit: async (afterId, limit) => take(this.#audit.filter((r) => r.id > afterId), limit).map((r) => ({ ...r })),
    });
    this.policies = guarded<PolicyPort>(closed, {
      loadAliasPolicies: async () => [...this.#policies].sort(([a], [b]) => binary(a, b)).map(([name, policy]) => ({ name, policy })),
      putAliasPolicy: async (name, policy) => {
        if (policy === null) this.#policies.delete(name);
        else this.#policies.set(name, policy);
      },
    });
    this.aliases = guarded<AliasPort>(closed, {
      addedAliases: Object.freeze((options.addedAliases ?? []).map((a) => ({ ...a }))),
      saveAlias: async (name, addedByUid) => void this.#aliases.set(name, addedByUid),
      deleteAlias: async (name) => void this.#aliases.delete(name),
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Returns the message as given, and keeps it as SQLite would read it back (defaults left out). */
  #append(message: IncomingMessage): StoredMessage {
    const receivedAt = new Date(this.#now());
    const id = this.#messages.length + 1;
    this.#messages.push({
      id,
      from: message.from,
      to: message.to,
      text: message.text,
      receivedAt: new Date(receivedAt.getTime()),
      via: message.via,
      // through the columns and back, as SQLite keeps it
      sender: senderFromColumns(senderColumns(message.sender)),
      ...(message.priority === undefined || message.priority === 'normal' ? {} : { priority: message.priority }),
      ...(message.expiresAt == null ? {} : { expiresAt: message.expiresAt }),
    });
    return { ...message, id, receivedAt };
  }

  #to(recipients: readonly string[] | null): StoredMessage[] {
    return recipients === null ? this.#messages : this.#messages.filter((m) => recipients.some((r) => sameName(r, m.to)));
  }

  /** findMessages: newest first; the text is a substring of text, title, sender or recipient, ASCII without case (LIKE). */
  #find(query: MessageQuery): StoredMessage[] {
    const text = query.text === null || query.text === '' ? null : fold(query.text);
    const found = this.#to(query.recipients)
      .filter((m) => m.id > query.afterId && (query.beforeId === null || m.id < query.beforeId))
      .filter((m) => text === null || [m.text, m.title ?? '', m.from, m.to].some((field) => fold(field).includes(text)))
      .reverse();
    return take(found, query.limit).map(copy);
  }

  #groupsOf(user: string): string[] {
    return this.#memberships
      .filter((m) => sameName(m.user, user))
      .map((m) => m.group)
      .sort(nocase);
  }

  /** Messages with an expiry, received before `receivedBefore`, never shown, read, acknowledged or expired; in (expiresAt, id) order. */
  #unseen(receivedBefore: number): StoredMessage[] {
    const seen = new Set(this.#events.filter((e) => seenStates.has(e.state)).map((e) => e.messageId));
    return this.#messages
      .filter((m) => m.expiresAt != null && m.receivedAt.getTime() < receivedBefore && !seen.has(m.id))
      .sort((a, b) => a.expiresAt! - b.expiresAt! || a.id - b.id);
  }

  /** latestMessageStates, in the order SQLite gives them: by the smallest id among each message's chosen events. */
  #states(ids: readonly number[]): MessageStates[] {
    if (ids.length > MAX_STATE_QUERY) throw new RangeError(`At most ${MAX_STATE_QUERY} messages per state query`);
    const wanted = new Set(ids);
    const byMessage = new Map<number, MessageEvent[]>();
    for (const e of this.#events) if (wanted.has(e.messageId)) byMessage.set(e.messageId, [...(byMessage.get(e.messageId) ?? []), e]);
    const states = [...byMessage].map(([messageId, events]) => {
      const latest = events.reduce((a, e) => (e.id > a.id ? e : a));
      const surfaces: Record<string, MessageEvent> = {};
      for (const e of events) {
        const best = surfaces[e.surface];
        if (best === undefined || outranks(e, best)) surfaces[e.surface] = e;
      }
      const first = Math.min(latest.id, ...Object.values(surfaces).map((e) => e.id));
      return { first, state: { messageId, latest: { ...latest }, surfaces: Object.fromEntries(Object.entries(surfaces).sort(([, a], [, b]) => a.id - b.id).map(([s, e]) => [s, { ...e }])) } };
    });
    return states.sort((a, b) => a.first - b.first).map((s) => s.state);
  }
}

/** Removes the matching items in place; how many went. */
function remove<T>(items: T[], match: (item: T) => boolean): number {
  const before = items.length;
  const kept = items.filter((item) => !match(item));
  items.splice(0, items.length, ...kept);
  return before - kept.length;
}
