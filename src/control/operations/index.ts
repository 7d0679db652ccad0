/**
 * Every control operation, declared once and grouped by area. The control socket, the secure
 * channel and the web run them through `handleRequest` (../handlers.ts); the typed client
 * (lib/client.ts) takes its parameter and result types from here.
 */
import type { OperationSpec } from '../operation.js';
import { accountOperations } from './accounts.js';
import { aliasOperations } from './aliases.js';
import { auditOperations } from './audit.js';
import { daemonOperations } from './daemon.js';
import { hubOperations } from './hub.js';
import { messageOperations } from './messages.js';
import { receiptOperations } from './receipts.js';

export const OPERATIONS = {
  ...messageOperations,
  ...aliasOperations,
  ...receiptOperations,
  ...accountOperations,
  ...auditOperations,
  ...daemonOperations,
  ...hubOperations,
};

export type OperationName = keyof typeof OPERATIONS;
type SpecOf<O extends OperationName> = (typeof OPERATIONS)[O];
/** What a client sends for `O`. */
export type ParamsOf<O extends OperationName> = SpecOf<O> extends OperationSpec<infer P extends object, unknown> ? P : never;
/** What `O` answers (as JSON). */
export type ResultOf<O extends OperationName> = Awaited<ReturnType<SpecOf<O>['run']>>;

export const isOperation = (op: unknown): op is OperationName => typeof op === 'string' && Object.hasOwn(OPERATIONS, op);
