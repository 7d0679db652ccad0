/**
 * Errors of the store, and how an error thrown in the store's worker reaches the caller on the
 * main thread. Structured clone keeps only an Error's message and a standard name, so the worker
 * sends the fields callers branch on (name, code, status) itself and they are put back here.
 */
import { NetApiError } from '../messenger/errors.js';

/** The database is held by another process: another daemon runs on this data dir. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  readonly code = 'NETSEND_STORE_LOCKED';
}

/** An error as it crosses from the worker to the main thread. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  /** e.g. SQLITE_CONSTRAINT_UNIQUE, SQLITE_FULL, NETSEND_STORE_LOCKED */
  readonly code?: string;
  /** a NET_API_STATUS (NetApiError) */
  readonly status?: number;
  readonly stack?: string;
}

export function errorToWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, status } = error as { code?: unknown; status?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

const STANDARD: Readonly<Record<string, new (message: string) => Error>> = { Error, RangeError, TypeError, SyntaxError, ReferenceError, EvalError, URIError };

/** The worker's error as an Error of the same name, message, code and status (and class, where it is ours or standard). */
export function errorFromWire(wire: WireError): Error {
  let error: Error;
  if (wire.name === 'StoreLockedError') error = new StoreLockedError(wire.message);
  else if (wire.name === 'NetApiError' && wire.status !== undefined) error = NetApiError.fromStatus(wire.status, wire.message);
  else {
    error = new (STANDARD[wire.name] ?? Error)(wire.message);
    // SqliteError and the like: a plain Error that still says what it was
    if (error.name !== wire.name) Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
    if (wire.code !== undefined) Object.defineProperty(error, 'code', { value: wire.code, writable: true, configurable: true, enumerable: true });
    if (wire.status !== undefined) Object.defineProperty(error, 'status', { value: wire.status, writable: true, configurable: true, enumerable: true });
  }
  // where it failed in the worker says more than where the reply was read
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
