/**
 * How the web answers a failure: one table from a NetApiError's status to its HTTP status, and
 * the web's own refusals (HttpError), which carry a NET_API_STATUS by name like every other error.
 * Every error body is `{ status, name, message }`.
 */
import { isNetApiError, type NetApiError } from '../messenger/errors.js';
import { NERR, STATUS, type StatusName } from '../messenger/status.js';

/** What the web answers for one kind of failure: the HTTP status, and any headers it needs. */
export interface HttpAnswer {
  readonly code: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A NetApiError as HTTP, by its status name. A status not listed here is a mistake in the
 * request (400), and so is a number netsend does not know.
 */
export const NET_API_HTTP: Readonly<Partial<Record<StatusName, HttpAnswer>>> = {
  ERROR_ACCESS_DENIED: { code: 403 },
  ERROR_NOT_FOUND: { code: 404 },
  NERR_NameNotFound: { code: 404 },
  NERR_NetworkError: { code: 502 },
  // a rate limit at the front door: try again once a token is back (1 / "source message rate")
  NERR_NameInUse: { code: 429, headers: { 'Retry-After': '1' } },
};

const REQUEST_PROBLEM: HttpAnswer = { code: 400 };

/** The table's answer for a NetApiError, or 400 for a status it does not name. */
export function httpAnswerOf(error: NetApiError): HttpAnswer {
  return (error.statusName === undefined ? undefined : NET_API_HTTP[error.statusName]) ?? REQUEST_PROBLEM;
}

export interface ErrorBody {
  readonly status: number;
  readonly name: string;
  readonly message: string;
}

/**
 * A refusal the web makes itself, before any control operation: its own HTTP status (401 "log
 * in first" is not the table's 403), with the NET_API_STATUS the body names and words of its own.
 */
export class HttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly statusName: StatusName,
    message: string,
  ) {
    super(message);
  }

  get body(): ErrorBody {
    return { status: NERR[this.statusName], name: this.statusName, message: this.message };
  }
}

export const unauthenticated = (): HttpError =>
  new HttpError(401, 'ERROR_ACCESS_DENIED', 'Log in first: a session, or an Authorization header (Bearer token or Basic user:password).');
export const forbidden = (why: string): HttpError => new HttpError(403, 'ERROR_ACCESS_DENIED', why);
export const badRequest = (why: string): HttpError => new HttpError(400, 'ERROR_INVALID_PARAMETER', why);
export const notFound = (): HttpError => new HttpError(404, 'ERROR_NOT_FOUND', 'No such message.');
/** A logon refused, wrong (401) or to wait (429): status 5, as the original answered a caller it could not authenticate. */
export const logonRefused = (wait: boolean, why: string): HttpError => new HttpError(wait ? 429 : 401, 'ERROR_ACCESS_DENIED', why);

/** The body for a path or method nothing answers to. */
export const noSuchRoute = (method: string, path: string): ErrorBody => ({
  status: NERR.ERROR_NOT_SUPPORTED,
  name: 'ERROR_NOT_SUPPORTED',
  message: `There is no ${method} ${path} here.`,
});

/** Any error as the answer to give: the web's own, a NetApiError by the table, fastify's 4xx, else a 500 that tells nothing. */
export function answerFor(error: unknown): HttpAnswer & { readonly body: ErrorBody } {
  if (error instanceof HttpError) return { code: error.httpStatus, body: error.body };
  if (isNetApiError(error)) return { ...httpAnswerOf(error), body: error.toJSON() };
  // fastify's own refusals (a body too large, a bad content length) are the caller's mistakes
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { code: statusCode, body: { status: NERR.ERROR_INVALID_PARAMETER, name: 'ERROR_INVALID_PARAMETER', message: (error as Error).message } };
  }
  return { code: 500, body: { status: NERR.NERR_InternalError, name: 'NERR_InternalError', message: STATUS.NERR_InternalError.message } };
}
