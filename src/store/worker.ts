/**
 * The store's worker thread: owns the SQLite connection. Writes (a message's append among them)
 * that arrive while a commit is running are committed together in the next transaction (group
 * commit), so one fsync serves many senders and an idle store adds no delay. A call that arrives
 * after them waits for their commit, so it sees them, as the order of requests says (and does not
 * break the group up).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDatabase } from './database.js';
import { errorToWire } from './errors.js';
import type { StoreReply, StoreRequest } from './protocol.js';

/** Most writes committed in one transaction. */
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

let pending: Array<{ id: number; write: () => unknown }> = [];
/** Calls that arrived after pending writes: answered once those are committed. */
let afterCommit: Array<() => void> = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  while (pending.length > 0) {
    const batch = pending.splice(0, MAX_BATCH);
    const ids = batch.map((p) => p.id);
    try {
      const outcomes = db.commitTogether(batch.map((p) => p.write)).map((outcome) => ('error' in outcome ? { error: errorToWire(outcome.error) } : outcome));
      port!.postMessage({ kind: 'committed', ids, outcomes } satisfies StoreReply);
    } catch (error) {
      port!.postMessage({ kind: 'error', ids, error: errorToWire(error) } satisfies StoreReply);
    }
  }
  const calls = afterCommit;
  afterCommit = [];
  for (const call of calls) call();
}

function later(id: number, write: () => unknown): void {
  pending.push({ id, write });
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

/** The query a call names; only an area's own queries, nothing else reachable from it. */
function queryOf(request: Extract<StoreRequest, { kind: 'call' | 'write' }>): (...args: unknown[]) => unknown {
  const queries: object | undefined = Object.hasOwn(db.areas, request.area) ? db.areas[request.area] : undefined;
  const query: unknown = queries !== undefined && Object.hasOwn(queries, request.method) ? (queries as Record<string, unknown>)[request.method] : undefined;
  if (typeof query !== 'function') throw new Error(`No store call ${String(request.area)}.${String(request.method)}`);
  return query as (...args: unknown[]) => unknown;
}

port.on('message', (request: StoreRequest) => {
  try {
    switch (request.kind) {
      case 'write': {
        const query = queryOf(request);
        return later(request.id, () => query(...request.args));
      }
      case 'call': {
        const query = queryOf(request);
        const answer = () => {
          try {
            port.postMessage({ kind: 'result', id: request.id, value: query(...request.args) } satisfies StoreReply);
          } catch (error) {
            port.postMessage({ kind: 'error', ids: [request.id], error: errorToWire(error) } satisfies StoreReply);
          }
        };
        // after what was asked before it
        if (pending.length > 0) afterCommit.push(answer);
        else answer();
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
    port.postMessage({ kind: 'error', ids: [request.id], error: errorToWire(error) } satisfies StoreReply);
  }
});
