import type { StoredAlias } from '../messenger/aliases.js';
import type { StoredMessage } from '../messenger/message.js';
import type { PendingMessage, StoreCall } from './database.js';

/** Main thread → store worker. */
export type StoreRequest =
  | { kind: 'append'; id: number; entry: PendingMessage }
  | { kind: 'list'; id: number; afterId: number; limit: number; recipients: readonly string[] | null }
  | { kind: 'saveAlias'; id: number; name: string; addedByUid: number | null }
  | { kind: 'deleteAlias'; id: number; name: string }
  | { kind: 'call'; id: number; method: StoreCall; args: unknown[] }
  | { kind: 'close'; id: number };

/** Store worker → main thread. */
export type StoreReply =
  | { kind: 'ready'; aliases: StoredAlias[] }
  | { kind: 'failed'; locked: boolean; message: string }
  | { kind: 'appended'; ids: number[]; rowIds: number[] }
  | { kind: 'result'; id: number; value: StoredMessage[] | unknown }
  | { kind: 'error'; ids: number[]; message: string };
