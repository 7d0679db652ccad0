import type { StoredAlias } from '../messenger/aliases.js';
import type { StoreArea } from './database.js';
import type { WireError } from './errors.js';

/**
 * Main thread → store worker. A call names one of the area's queries (database.ts, `StoreAreas`);
 * a write is a call the worker commits together with the other writes beside it.
 */
export type StoreRequest =
  | { kind: 'call' | 'write'; id: number; area: StoreArea; method: string; args: unknown[] }
  | { kind: 'close'; id: number };

/** Store worker → main thread. Errors go as WireError, which keeps their name, code and status. */
export type StoreReply =
  | { kind: 'ready'; aliases: StoredAlias[] }
  | { kind: 'failed'; error: WireError }
  | { kind: 'committed'; ids: number[]; outcomes: Array<{ value: unknown } | { error: WireError }> }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; ids: number[]; error: WireError };
