import { NetApiError } from '../messenger/errors.js';
import type { Caller } from '../messenger/messenger.js';
import type { Action, Principal } from '../security/access.js';
import type { ControlServices } from './services.js';

/** One call as an operation sees it: who makes it, and the daemon's services. */
export interface Call {
  readonly services: ControlServices;
  readonly principal: Principal;
  /** The same caller as the Messenger knows callers (uid, account, source, transport). */
  readonly caller: Caller;
}

/**
 * Parameters as they arrive: untrusted, any field missing or of any type. Each field is checked
 * by the rule that owns it (the Messenger's for a message, Accounts' for a user name, the
 * helpers below for paging), so the check lives in one place; `Params` is what a client sends.
 */
export type Untrusted<Params> = { readonly [K in keyof Params]?: unknown };

/** One control operation: declared once, served by the control socket, the secure channel and the web. */
export interface OperationSpec<Params, Result> {
  /** The access rule it falls under (security/access.ts): who may call it. */
  readonly action: Action;
  /** Set when only callers on this host may make it: the refusal's words. */
  readonly localOnly?: string;
  run(call: Call, params: Untrusted<Params>): Promise<Result> | Result;
}

/**
 * Declares an operation whose client-side parameters are `Params`; its result type is what `run`
 * returns. Results cross the wire as JSON, so they are plain values (no Date, no Map).
 */
export const operation =
  <Params extends object = Record<never, never>>() =>
  <Result>(spec: OperationSpec<Params, Result>): OperationSpec<Params, Result> =>
    spec;

/** Most messages (or audit records) one list call returns; clients page with `afterId`. */
export const MAX_INBOX_PAGE = 1000;

export function wholeNumber(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a whole number.`);
  }
  return value;
}

/** A page size: at most one page, whatever the caller asks. */
export const pageLimit = (value: unknown): number => Math.min(wholeNumber(value, MAX_INBOX_PAGE, 'limit'), MAX_INBOX_PAGE);

export function optionalString(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a string.`);
  return value;
}

export function stringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 64 || !value.every((v) => typeof v === 'string')) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a list of names.`);
  }
  return value as string[];
}
