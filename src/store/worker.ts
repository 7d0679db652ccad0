/**
 * The store's worker thread: owns the SQLite connection. Appends that arrive while a commit is
 * running are committed together in the next transaction (group commit), so one fsync serves
 * many senders and an idle store adds no delay.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDatabase, type PendingMessage } from './database.js';
import { errorToWire } from './errors.js';
import type { StoreReply, StoreRequest } from './protocol.js';

/** Most messages committed in one transaction. */
const MAX_BATCH = 1024;

const port = parentPort;
if (port === null) throw new Error('store worker started outside a worker thread');

let db: SqliteDatabase;
try {
  db = new SqliteDatabase((workerData as { path: string }).path);
  port.postMessage({ kind: 'ready', aliases: db.areas.aliases.loadAliases() } satisfies StoreReply);
} catch (error) {
  port.postMessage({ kind: 'failed', error: errorToWire(error) } satisfies StoreReply);
  process.exit(0);
}

let pending: Array<{ id: number; entry: PendingMessage }> = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  while (pending.length > 0) {
    const batch = pending.splice(0, MAX_BATCH);
    try {
      const rows = db.areas.messages.insertMessages(batch.map((p) => p.entry));
      port!.postMessage({ kind: 'appended', ids: batch.map((p) => p.id), rows } satisfies StoreReply);
    } catch (error) {
      port!.postMessage({ kind: 'error', ids: batch.map((p) => p.id), error: errorToWire(error) } satisfies StoreReply);
    }
  }
}

/** The query a call names; only an area's own queries, nothing else reachable from it. */
function queryOf(request: Extract<StoreRequest, { kind: 'call' }>): (...args: unknown[]) => unknown {
  const queries: object | undefined = Object.hasOwn(db.areas, request.area) ? db.areas[request.area] : undefined;
  const query: unknown = queries !== undefined && Object.hasOwn(queries, request.method) ? (queries as Record<string, unknown>)[request.method] : undefined;
  if (typeof query !== 'function') throw new Error(`No store call ${String(request.area)}.${String(request.method)}`);
  return query as (...args: unknown[]) => unknown;
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
      case 'call':
        port.postMessage({ kind: 'result', id: request.id, value: queryOf(request)(...request.args) } satisfies StoreReply);
        return;
      case 'close':
        flush();
        db.close();
        port.postMessage({ kind: 'result', id: request.id, value: null } satisfies StoreReply);
        port.close();
        return;
    }
  } catch (error) {
    port.postMessage({ kind: 'error', ids: [request.id], error: errorToWire(error) } satisfies StoreReply);
  }
});
