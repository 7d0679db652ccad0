/**
 * The store's worker thread: owns the SQLite connection. Appends that arrive while a commit is
 * running are committed together in the next transaction (group commit), so one fsync serves
 * many senders and an idle store adds no delay.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { STORE_CALLS, SqliteDatabase, type PendingMessage } from './database.js';
import type { StoreReply, StoreRequest } from './protocol.js';

/** Most messages committed in one transaction. */
const MAX_BATCH = 1024;

const port = parentPort;
if (port === null) throw new Error('store worker started outside a worker thread');

let db: SqliteDatabase;
try {
  db = new SqliteDatabase((workerData as { path: string }).path);
  port.postMessage({ kind: 'ready', aliases: db.loadAliases() } satisfies StoreReply);
} catch (error) {
  port.postMessage({ kind: 'failed', locked: (error as { code?: string }).code === 'NETSEND_STORE_LOCKED', message: (error as Error).message } satisfies StoreReply);
  process.exit(0);
}

let pending: Array<{ id: number; entry: PendingMessage }> = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  while (pending.length > 0) {
    const batch = pending.splice(0, MAX_BATCH);
    try {
      const ids = db.insertMessages(batch.map((p) => p.entry));
      port!.postMessage({ kind: 'appended', ids: batch.map((p) => p.id), rowIds: ids } satisfies StoreReply);
    } catch (error) {
      port!.postMessage({ kind: 'error', ids: batch.map((p) => p.id), message: (error as Error).message } satisfies StoreReply);
    }
  }
}

port.on('message', (request: StoreRequest) => {
  try {
    switch (request.kind) {
      case 'append':
        pending.push({ id: request.id, entry: request.entry });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
        return;
      case 'list':
        port.postMessage({ kind: 'result', id: request.id, value: db.listMessages(request.afterId, request.limit, request.recipients) } satisfies StoreReply);
        return;
      case 'saveAlias':
        db.saveAlias(request.name, request.addedByUid);
        port.postMessage({ kind: 'result', id: request.id, value: null } satisfies StoreReply);
        return;
      case 'deleteAlias':
        db.deleteAlias(request.name);
        port.postMessage({ kind: 'result', id: request.id, value: null } satisfies StoreReply);
        return;
      case 'call': {
        // only the listed methods: the request names one, it must not reach anything else
        if (!STORE_CALLS.includes(request.method)) throw new Error(`No store call ${String(request.method)}`);
        const method = db[request.method] as (...args: unknown[]) => unknown;
        port.postMessage({ kind: 'result', id: request.id, value: method.apply(db, request.args) } satisfies StoreReply);
        return;
      }
      case 'close':
        flush();
        db.close();
        port.postMessage({ kind: 'result', id: request.id, value: null } satisfies StoreReply);
        port.close();
        return;
    }
  } catch (error) {
    port.postMessage({ kind: 'error', ids: [request.id], message: (error as Error).message } satisfies StoreReply);
  }
});
