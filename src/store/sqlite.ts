import type { StoredAlias } from '../messenger/aliases.js';
import type { AccountStore } from '../security/accounts.js';
import type { AuditStore } from '../security/audit.js';
import type { HubStore } from '../hub/outbox.js';
import { SqliteDatabase, type StoreAreas } from './database.js';
import type { AliasPort, EventPort, MessagePort, PolicyPort, StorePorts } from './ports.js';

export { StoreLockedError } from './errors.js';
export type { AliasPort, EventPort, MessagePort, PolicyPort, StorePorts } from './ports.js';

/** Most writes committed in one transaction. */
const MAX_BATCH = 1024;

/** A caller's answer, given once what it waits for is on disk, or with why it never will be. */
type Answer = (failure?: Error) => void;

interface PendingWrite {
  readonly write: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A call made after writes not committed yet: run once they are, before any made after it. */
interface QueuedCall {
  readonly run: () => void;
}

/**
 * The durable inbox and alias table, on the daemon's own thread, as the durable floor
 * (bench/floor.ts) keeps its database; only the wait for the disk runs elsewhere, in libuv's
 * thread pool (database.ts, `syncLog`). A store worker thread cost a second JavaScript heap (about
 * 10 MiB) and two thread hops per commit.
 *
 * Group commit, twice over. The writes (a message's append among them) made in one turn of the
 * event loop are committed in one transaction at its end, or, when a log sync is under way, wait
 * for it to end and are committed together then; one log sync puts on disk every commit made
 * before it, and only then are their callers answered. So a busy store syncs back to back and an
 * idle one adds no delay. A call made after writes not committed yet runs after their commit (the
 * writes before it and those after it in two transactions) and is answered after their sync, so
 * it sees them (and none made after it) and they are durable, as the order of calls says; a call
 * that changes rows itself is answered after a sync too. `messages.append` resolves once its message is on disk.
 *
 * A log sync that fails leaves the store failed: what it held and every call after it reject
 * (an fsync error cannot be retried: the kernel may have dropped the pages it could not write).
 *
 * Consumers take a port (ports.ts): `messages`, `events`, `accounts`, `audit`, `policies`,
 * `aliases`, `hub`.
 */
export class SqliteStore implements StorePorts {
  readonly #db: SqliteDatabase;
  readonly #areas: StoreAreas;
  /** Writes not committed yet, and the calls made after them, in the order they were made. */
  #queue: Array<PendingWrite | QueuedCall> = [];
  #flushScheduled = false;
  #flushing = false;
  /** Answers for the log sync under way, if one is. */
  #syncing: Answer[] | undefined;
  /** Answers for the sync after it: what was committed (or read) after the one under way began. */
  #nextSync: Answer[] = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #failed: Error | undefined;

  readonly messages: MessagePort = {
    append: (message) => {
      const receivedAt = new Date();
      return this.#write(({ messages }) => messages.insertMessage({ message, receivedAt: receivedAt.getTime() })).then((row) => ({
        ...message,
        id: row.id,
        receivedAt,
        ...(row.duplicate ? { duplicate: true as const } : {}),
      }));
    },
    list: ({ afterId, limit, recipients = null }) => this.#call(({ messages }) => messages.listMessages(afterId, limit, recipients)),
    // read newest first, without walking the inbox from its start, then turned oldest first
    latest: ({ limit, recipients = null, beforeId = null }) =>
      this.#call(({ messages }) => messages.findMessages({ beforeId, afterId: 0, limit, text: null, recipients }).reverse()),
    findMessages: (query) => this.#call(({ messages }) => messages.findMessages(query)),
    getMessage: (id) => this.#call(({ messages }) => messages.getMessage(id)),
  };

  readonly events: EventPort = {
    recordMessageEvent: (event) => this.#write(({ events }) => events.recordMessageEvent(event)),
    recordMessageEvents: (list) => this.#write(({ events }) => events.recordMessageEvents(list)),
    listMessageEvents: (messageId) => this.#call(({ events }) => events.listMessageEvents(messageId)),
    latestMessageStates: (ids) => this.#call(({ events }) => events.latestMessageStates(ids)),
    expiredMessages: (after, now, receivedBefore, limit) => this.#call(({ events }) => events.expiredMessages(after, now, receivedBefore, limit)),
    waitingMessages: (after, now, receivedBefore, limit) => this.#call(({ events }) => events.waitingMessages(after, now, receivedBefore, limit)),
  };

  readonly accounts: AccountStore = {
    getUser: (name) => this.#call(({ accounts }) => accounts.getUser(name)),
    putUser: (name, passwordHash) => this.#call(({ accounts }) => accounts.putUser(name, passwordHash)),
    deleteUser: (name) => this.#call(({ accounts }) => accounts.deleteUser(name)),
    listUsers: () => this.#call(({ accounts }) => accounts.listUsers()),
    setMembership: (user, group, member) => this.#call(({ accounts }) => accounts.setMembership(user, group, member)),
    addToken: (hash, user, hostKey = null) => this.#call(({ accounts }) => accounts.addToken(hash, user, hostKey)),
    userForToken: (hash) => this.#call(({ accounts }) => accounts.userForToken(hash)),
    listTokens: (user) => this.#call(({ accounts }) => accounts.listTokens(user)),
    deleteTokens: (user, hashes) => this.#call(({ accounts }) => accounts.deleteTokens(user, hashes)),
  };

  readonly audit: AuditStore = {
    appendAudit: (entry) => this.#call(({ audit }) => audit.appendAudit(entry)),
    listAudit: (afterId, limit) => this.#call(({ audit }) => audit.listAudit(afterId, limit)),
  };

  readonly policies: PolicyPort = {
    loadAliasPolicies: () => this.#call(({ policies }) => policies.loadAliasPolicies()),
    putAliasPolicy: (name, policy) => this.#call(({ policies }) => policies.putAliasPolicy(name, policy)),
  };

  /** The organisation hub's outbox, and the origin of messages that came through it. */
  readonly hub: HubStore = {
    addOutgoing: (entry) => this.#write(({ hub }) => hub.addOutgoing(entry)),
    getOutgoing: (id) => this.#call(({ hub }) => hub.getOutgoing(id)),
    outgoingByEnvelopes: (envelopeIds) => this.#call(({ hub }) => hub.outgoingByEnvelopes(envelopeIds)),
    waitingOutgoing: (limit) => this.#call(({ hub }) => hub.waitingOutgoing(limit)),
    countWaitingOutgoing: () => this.#call(({ hub }) => hub.countWaitingOutgoing()),
    markPublished: (ids) => this.#write(({ hub }) => hub.markPublished(ids)),
    saveOutgoingStates: (states) => this.#write(({ hub }) => hub.saveOutgoingStates(states)),
    messageByOrigin: (originId) => this.#call(({ hub }) => hub.messageByOrigin(originId)),
    owedReceipts: (afterId, limit) => this.#call(({ hub }) => hub.owedReceipts(afterId, limit)),
    receiptsTold: (eventIds) => this.#write(({ hub }) => hub.receiptsTold(eventIds)),
    countOwedReceipts: () => this.#call(({ hub }) => hub.countOwedReceipts()),
  };

  readonly aliases: AliasPort;

  private constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#areas = db.areas;
    this.aliases = Object.freeze({
      addedAliases: Object.freeze(db.areas.aliases.loadAliases()),
      saveAlias: (name: string, addedByUid: number | null) => this.#call(({ aliases }) => aliases.saveAlias(name, addedByUid)),
      deleteAlias: (name: string) => this.#call(({ aliases }) => aliases.deleteAlias(name)),
    });
    for (const port of [this.messages, this.events, this.accounts, this.audit, this.policies, this.hub]) Object.freeze(port);
  }

  /** Opens the database and brings its schema up to date. @throws StoreLockedError when another process holds it */
  static async open(path: string): Promise<SqliteStore> {
    return new SqliteStore(new SqliteDatabase(path));
  }

  /** How its commits reach the disk (database.ts). */
  get durability(): SqliteDatabase['durability'] {
    return this.#db.durability;
  }

  /**
   * Commits and syncs what is pending, answers its callers and closes the database.
   * @throws the store's failure, when a log sync failed (then what waited was not answered as stored)
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    // the descriptor stays open until the sync under way is done with it
    const syncing = this.#syncing;
    if (syncing !== undefined) await new Promise<void>((resolve) => syncing.push(() => resolve()));
    if (this.#failed === undefined && this.#nextSync.length > 0) {
      const answers = this.#nextSync;
      this.#nextSync = [];
      try {
        this.#db.syncLogNow();
        for (const answer of answers) answer();
      } catch (error) {
        this.#fail(error, answers);
      }
    }
    this.#db.close();
    if (this.#failed !== undefined) throw this.#failed;
  }

  /**
   * A query run now, or right after the commit of the writes made before it, so it sees them and
   * nothing made after it; answered once all it saw is on disk (after a sync of its own, when
   * it changed rows itself).
   */
  #call<T>(query: (areas: StoreAreas) => T): Promise<T> {
    if (this.#closed || this.#failed) return Promise.reject(this.#failed ?? new Error('The store is closed'));
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        if (this.#failed !== undefined) return reject(this.#failed);
        let settle: Answer;
        let changed: boolean;
        const before = this.#db.totalChanges();
        try {
          const value = query(this.#areas);
          settle = (failure) => (failure === undefined ? resolve(value) : reject(failure));
        } catch (error) {
          settle = (failure) => reject(failure ?? error);
        } finally {
          changed = this.#db.totalChanges() !== before;
        }
        this.#answerWhenSynced(settle, changed);
      };
      if (this.#queue.length > 0) this.#queue.push({ run });
      else run();
    });
  }

  /** Gives `answer` once every commit made so far (`committedNow`: and one made just now) is on disk. */
  #answerWhenSynced(answer: Answer, committedNow: boolean): void {
    if (committedNow || this.#nextSync.length > 0) {
      // a commit the sync under way (if any) may not cover
      this.#nextSync.push(answer);
      this.#startSync();
    } else if (this.#syncing !== undefined) this.#syncing.push(answer);
    else answer();
  }

  /** A write committed together with the others queued with it (this turn's, or those made during a sync). */
  #write<T>(query: (areas: StoreAreas) => T): Promise<T> {
    if (this.#closed || this.#failed) return Promise.reject(this.#failed ?? new Error('The store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ write: () => query(this.#areas), resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Commits the queued writes and runs the calls queued between them, in order: the writes up to
   * a call in one transaction, so the call sees them and nothing made after it. All answered after
   * the log sync that follows.
   */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#failed !== undefined) return;
    // Committed while a sync runs, they would wait for the next one anyway: they wait uncommitted
    // instead, and commit together when it is done (one commit, one write of the pages they share).
    if (this.#syncing !== undefined && !this.#closed) return;
    const queue = this.#queue;
    this.#queue = [];
    // one sync after all of it, not one started by a call half-way
    this.#flushing = true;
    try {
      for (let start = 0; start < queue.length; ) {
        const head = queue[start] as PendingWrite | QueuedCall;
        if ('run' in head) {
          head.run();
          start++;
          continue;
        }
        let end = start + 1;
        while (end < queue.length && end - start < MAX_BATCH && 'write' in (queue[end] as PendingWrite | QueuedCall)) end++;
        const batch = queue.slice(start, end) as PendingWrite[];
        start = end;
        let outcomes: Array<{ value: unknown } | { error: unknown }>;
        try {
          outcomes = this.#db.commitTogether(batch.map((pending) => pending.write));
        } catch (error) {
          // the commit itself failed: none of them is stored
          for (const pending of batch) pending.reject(error);
          continue;
        }
        batch.forEach(({ resolve, reject }, i) => {
          const outcome = outcomes[i];
          // one that failed alone is not waiting for the disk
          if (outcome !== undefined && 'error' in outcome) reject(outcome.error);
          else this.#nextSync.push((failure) => (failure === undefined ? resolve(outcome?.value) : reject(failure)));
        });
      }
    } finally {
      this.#flushing = false;
    }
    this.#startSync();
  }

  #startSync(): void {
    if (this.#syncing !== undefined || this.#flushing || this.#nextSync.length === 0 || this.#closed) return;
    const answers = (this.#syncing = this.#nextSync);
    this.#nextSync = [];
    this.#db.syncLog((error) => {
      this.#syncing = undefined;
      if (error !== null) return this.#fail(error, answers);
      for (const answer of answers) answer();
      if (this.#queue.length > 0) this.#flush();
      else this.#startSync();
    });
  }

  #fail(error: unknown, answers: readonly Answer[]): void {
    const failed = (this.#failed = new Error(`The store could not put its log on disk: ${String(error)}`, { cause: error }));
    const queue = this.#queue;
    const waiting = [...answers, ...this.#nextSync];
    this.#queue = [];
    this.#nextSync = [];
    for (const answer of waiting) answer(failed);
    // writes not committed are not stored; calls made after them are answered with the failure, not run
    for (const queued of queue) {
      if ('run' in queued) queued.run();
      else queued.reject(failed);
    }
  }
}
