import { Worker } from 'node:worker_threads';
import type { AliasStore, StoredAlias } from '../messenger/aliases.js';
import type { AccountStore } from '../security/accounts.js';
import type { AuditEntry, AuditStore } from '../security/audit.js';
import type { IncomingMessage, StoredMessage } from '../messenger/message.js';
import type { MessageStore } from '../messenger/messenger.js';
import { StoreLockedError, type SqliteDatabase, type StoreCall } from './database.js';
import type { StoreReply, StoreRequest } from './protocol.js';

export { StoreLockedError } from './database.js';

type Waiter = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * The durable inbox and alias table. SQLite runs in a worker thread (src/store/worker.ts): a
 * commit waits for its fsync there while the daemon's event loop goes on serving sessions.
 * `append` resolves once the message's transaction is on disk.
 */
export class SqliteStore implements MessageStore, AliasStore, AccountStore, AuditStore {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiter>();
  /** The aliases added at runtime, as stored when the database opened. */
  readonly addedAliases: readonly StoredAlias[];
  #nextId = 1;
  #closed: Promise<void> | undefined;

  private constructor(worker: Worker, addedAliases: StoredAlias[]) {
    this.#worker = worker;
    this.addedAliases = Object.freeze(addedAliases);
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
        else if (reply.kind === 'failed') reject(reply.locked ? new StoreLockedError(reply.message) : new Error(reply.message));
        else reject(new Error(`The store worker answered ${reply.kind} before it was ready`));
      });
    });
  }

  append(message: IncomingMessage): Promise<StoredMessage> {
    const receivedAt = new Date();
    return this.#request<number>((id) => ({ kind: 'append', id, entry: { message, receivedAt: receivedAt.getTime() } })).then((rowId) => ({ ...message, id: rowId, receivedAt }));
  }

  list({ afterId, limit, recipients = null }: { afterId: number; limit: number; recipients?: readonly string[] | null }): Promise<StoredMessage[]> {
    return this.#request<StoredMessage[]>((id) => ({ kind: 'list', id, afterId, limit, recipients }));
  }

  /** The newest `limit` messages (only those to `recipients` when given), oldest first: read newest first, without walking the inbox from its start. */
  async latest({ limit, recipients = null }: { limit: number; recipients?: readonly string[] | null }): Promise<StoredMessage[]> {
    return (await this.call('findMessages', { beforeId: null, afterId: 0, limit, text: null, recipients })).reverse();
  }

  async saveAlias(name: string, addedByUid: number | null): Promise<void> {
    await this.#request((id) => ({ kind: 'saveAlias', id, name, addedByUid }));
  }

  async deleteAlias(name: string): Promise<void> {
    await this.#request((id) => ({ kind: 'deleteAlias', id, name }));
  }

  /** Runs one of the database's account, audit or policy methods in the worker. */
  call<M extends StoreCall>(method: M, ...args: Parameters<SqliteDatabase[M]>): Promise<ReturnType<SqliteDatabase[M]>> {
    return this.#request((id) => ({ kind: 'call', id, method, args }));
  }

  getUser = (name: string) => this.call('getUser', name);
  putUser = (name: string, passwordHash: string | null) => this.call('putUser', name, passwordHash);
  deleteUser = (name: string) => this.call('deleteUser', name);
  listUsers = () => this.call('listUsers');
  setMembership = (user: string, group: string, member: boolean) => this.call('setMembership', user, group, member);
  addToken = (hash: string, user: string, hostKey: string | null = null) => this.call('addToken', hash, user, hostKey);
  userForToken = (hash: string) => this.call('userForToken', hash);
  listTokens = (user: string) => this.call('listTokens', user);
  deleteTokens = (user: string, hashes: readonly string[] | null) => this.call('deleteTokens', user, hashes);
  appendAudit = (entry: AuditEntry) => this.call('appendAudit', entry);
  listAudit = (afterId: number, limit: number) => this.call('listAudit', afterId, limit);

  /** Commits what is pending, closes the database and ends the worker. */
  close(): Promise<void> {
    this.#closed ??= this.#request((id) => ({ kind: 'close', id })).then(
      () => this.#worker.terminate().then(() => undefined),
      () => undefined,
    );
    return this.#closed;
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
      case 'appended':
        reply.ids.forEach((id, i) => this.#take(id)?.resolve(reply.rowIds[i]));
        return;
      case 'result':
        this.#take(reply.id)?.resolve(reply.value);
        return;
      case 'error':
        for (const id of reply.ids) this.#take(id)?.reject(new Error(reply.message));
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
