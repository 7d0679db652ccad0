import { Worker } from 'node:worker_threads';
import type { StoredAlias } from '../messenger/aliases.js';
import type { AccountStore } from '../security/accounts.js';
import type { AuditStore } from '../security/audit.js';
import type { StoreArea, StoreAreas } from './database.js';
import { errorFromWire } from './errors.js';
import type { HubStore } from '../hub/outbox.js';
import type { AliasPort, EventPort, MessagePort, PolicyPort, StorePorts } from './ports.js';
import type { StoreReply, StoreRequest } from './protocol.js';

export { StoreLockedError } from './errors.js';
export type { AliasPort, EventPort, MessagePort, PolicyPort, StorePorts } from './ports.js';

type Waiter = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Result<F> = F extends (...args: never[]) => infer R ? R : never;

/**
 * The durable inbox and alias table. SQLite runs in a worker thread (src/store/worker.ts): a
 * commit waits for its fsync there while the daemon's event loop goes on serving sessions.
 * `messages.append` resolves once the message's transaction is on disk. An error thrown in the
 * worker rejects the call with the same name, message and code (errors.ts).
 *
 * Consumers take a port (ports.ts): `messages`, `events`, `accounts`, `audit`, `policies`,
 * `aliases`.
 */
export class SqliteStore implements StorePorts {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 1;
  #closed: Promise<void> | undefined;

  readonly messages: MessagePort = {
    append: (message) => {
      const receivedAt = new Date();
      return this.#write('messages', 'insertMessage', { message, receivedAt: receivedAt.getTime() }).then((row) => ({
        ...message,
        id: row.id,
        receivedAt,
        ...(row.duplicate ? { duplicate: true as const } : {}),
      }));
    },
    list: ({ afterId, limit, recipients = null }) => this.#call('messages', 'listMessages', afterId, limit, recipients),
    // read newest first, without walking the inbox from its start, then turned oldest first
    latest: async ({ limit, recipients = null, beforeId = null }) => (await this.#call('messages', 'findMessages', { beforeId, afterId: 0, limit, text: null, recipients })).reverse(),
    findMessages: (query) => this.#call('messages', 'findMessages', query),
    getMessage: (id) => this.#call('messages', 'getMessage', id),
  };

  readonly events: EventPort = {
    recordMessageEvent: (event) => this.#write('events', 'recordMessageEvent', event),
    recordMessageEvents: (events) => this.#write('events', 'recordMessageEvents', events),
    listMessageEvents: (messageId) => this.#call('events', 'listMessageEvents', messageId),
    latestMessageStates: (ids) => this.#call('events', 'latestMessageStates', ids),
    expiredMessages: (after, now, receivedBefore, limit) => this.#call('events', 'expiredMessages', after, now, receivedBefore, limit),
    waitingMessages: (after, now, receivedBefore, limit) => this.#call('events', 'waitingMessages', after, now, receivedBefore, limit),
  };

  readonly accounts: AccountStore = {
    getUser: (name) => this.#call('accounts', 'getUser', name),
    putUser: (name, passwordHash) => this.#call('accounts', 'putUser', name, passwordHash),
    deleteUser: (name) => this.#call('accounts', 'deleteUser', name),
    listUsers: () => this.#call('accounts', 'listUsers'),
    setMembership: (user, group, member) => this.#call('accounts', 'setMembership', user, group, member),
    addToken: (hash, user, hostKey = null) => this.#call('accounts', 'addToken', hash, user, hostKey),
    userForToken: (hash) => this.#call('accounts', 'userForToken', hash),
    listTokens: (user) => this.#call('accounts', 'listTokens', user),
    deleteTokens: (user, hashes) => this.#call('accounts', 'deleteTokens', user, hashes),
  };

  readonly audit: AuditStore = {
    appendAudit: (entry) => this.#call('audit', 'appendAudit', entry),
    listAudit: (afterId, limit) => this.#call('audit', 'listAudit', afterId, limit),
  };

  readonly policies: PolicyPort = {
    loadAliasPolicies: () => this.#call('policies', 'loadAliasPolicies'),
    putAliasPolicy: (name, policy) => this.#call('policies', 'putAliasPolicy', name, policy),
  };

  /** The organisation hub's outbox, and the origin of messages that came through it. */
  readonly hub: HubStore = {
    addOutgoing: (entry) => this.#write('hub', 'addOutgoing', entry),
    getOutgoing: (id) => this.#call('hub', 'getOutgoing', id),
    outgoingByEnvelopes: (envelopeIds) => this.#call('hub', 'outgoingByEnvelopes', envelopeIds),
    waitingOutgoing: (limit) => this.#call('hub', 'waitingOutgoing', limit),
    countWaitingOutgoing: () => this.#call('hub', 'countWaitingOutgoing'),
    markPublished: (ids) => this.#write('hub', 'markPublished', ids),
    saveOutgoingStates: (states) => this.#write('hub', 'saveOutgoingStates', states),
    messageByOrigin: (originId) => this.#call('hub', 'messageByOrigin', originId),
    owedReceipts: (afterId, limit) => this.#call('hub', 'owedReceipts', afterId, limit),
    receiptsTold: (eventIds) => this.#write('hub', 'receiptsTold', eventIds),
    countOwedReceipts: () => this.#call('hub', 'countOwedReceipts'),
  };

  readonly aliases: AliasPort;

  private constructor(worker: Worker, addedAliases: StoredAlias[]) {
    this.#worker = worker;
    this.aliases = Object.freeze({
      addedAliases: Object.freeze(addedAliases),
      saveAlias: (name: string, addedByUid: number | null) => this.#call('aliases', 'saveAlias', name, addedByUid),
      deleteAlias: (name: string) => this.#call('aliases', 'deleteAlias', name),
    });
    for (const port of [this.messages, this.events, this.accounts, this.audit, this.policies, this.hub]) Object.freeze(port);
    worker.on('message', (reply: StoreReply) => this.#settle(reply));
    worker.on('error', (error) => this.#failAll(error));
    worker.on('exit', () => this.#failAll(new Error('The store worker exited')));
  }

  /** Opens the database. @throws StoreLockedError when another process holds it */
  static open(path: string): Promise<SqliteStore> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { path } });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once('error', onError);
      worker.once('message', (reply: StoreReply) => {
        worker.off('error', onError);
        if (reply.kind === 'ready') resolve(new SqliteStore(worker, reply.aliases));
        else if (reply.kind === 'failed') reject(errorFromWire(reply.error));
        else reject(new Error(`The store worker answered ${reply.kind} before it was ready`));
      });
    });
  }

  /** Commits what is pending, closes the database and ends the worker. */
  close(): Promise<void> {
    this.#closed ??= this.#request((id) => ({ kind: 'close', id })).then(
      () => this.#worker.terminate().then(() => undefined),
      () => undefined,
    );
    return this.#closed;
  }

  #call<A extends StoreArea, M extends keyof StoreAreas[A] & string>(area: A, method: M, ...args: Args<StoreAreas[A][M]>): Promise<Result<StoreAreas[A][M]>> {
    return this.#request((id) => ({ kind: 'call', id, area, method, args }));
  }

  /** A call the worker commits together with the writes that arrive beside it (a message's append among them). */
  #write<A extends StoreArea, M extends keyof StoreAreas[A] & string>(area: A, method: M, ...args: Args<StoreAreas[A][M]>): Promise<Result<StoreAreas[A][M]>> {
    return this.#request((id) => ({ kind: 'write', id, area, method, args }));
  }

  #request<T>(build: (id: number) => StoreRequest): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('The store is closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage(build(id));
    });
  }

  #settle(reply: StoreReply): void {
    switch (reply.kind) {
      case 'committed':
        reply.ids.forEach((id, i) => {
          const outcome = reply.outcomes[i];
          if (outcome !== undefined && 'error' in outcome) this.#take(id)?.reject(errorFromWire(outcome.error));
          else this.#take(id)?.resolve(outcome?.value);
        });
        return;
      case 'result':
        this.#take(reply.id)?.resolve(reply.value);
        return;
      case 'error':
        // one Error per caller: each may add to its own
        for (const id of reply.ids) this.#take(id)?.reject(errorFromWire(reply.error));
        return;
      default:
        return;
    }
  }

  #take(id: number): Waiter | undefined {
    const waiter = this.#waiting.get(id);
    this.#waiting.delete(id);
    return waiter;
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
