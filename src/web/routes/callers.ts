/**
 * Who is calling: a page's session cookie or an API client's Authorization header, logons
 * through the front door's gate (charged per address, audited), and the proof a page's change
 * must carry (CSRF token and Origin).
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../security/access.js';
import { LogonRefused } from '../../security/logon-gate.js';
import { cookieValue, headerCredentials, originMatches, sameSecret } from '../auth.js';
import { badRequest, forbidden, HttpError, logonRefused, unauthenticated } from '../errors.js';
import type { Caller, WebContext } from './context.js';

const WRONG_CREDENTIALS = 'The user name, password or token is incorrect.';
const TOO_MANY_LOGONS = 'Too many logon attempts from this address; wait and try again.';

/**
 * Where a call comes from, for the audit log and the logon limiter: the address without the
 * port. Each connection has a port of its own, so keyed on address:port a flood of refused
 * logons would get a fresh audit allowance per connection.
 */
export const source = (request: FastifyRequest): string => request.socket.remoteAddress ?? 'unknown';

/** A refused logon: audited under the address, and the answer to give (429: wait, else 401 with `message`). */
export function refuseLogon(context: WebContext, request: FastifyRequest, who: string, why: string, wait = false, message = WRONG_CREDENTIALS): HttpError {
  const refusal = logonRefused(wait, wait ? TOO_MANY_LOGONS : message);
  context.services.audit.record({ event: 'refused-logon', principal: who, source: source(request), detail: `web: ${why}`, status: refusal.body.status });
  return refusal;
}

/** Charges a logon attempt to the address before the check (given back on success). */
export function chargeLogon(context: WebContext, request: FastifyRequest, who: string): void {
  if (!context.logons.charge(source(request))) throw refuseLogon(context, request, who, 'rate', true);
}

/** Logs in with a password or API token, through the front door's logon gate (charged, audited). */
export async function logon(context: WebContext, request: FastifyRequest, credentials: { token: string } | { user: string; password: string }): Promise<Principal> {
  try {
    return await context.logons.logon(credentials, source(request), 'web');
  } catch (error) {
    if (!(error instanceof LogonRefused)) throw error;
    // the gate's answer as HTTP: 429 for "wait", 401 for wrong credentials
    throw logonRefused(error.wait, error.words);
  }
}

/**
 * Who is calling: the Authorization header wins over the cookie (API clients send no cookie).
 * `checkedAt` is the account-change tick before the check: what is built on the answer (a
 * stream) ends when the account changes after it.
 */
export async function identify(context: WebContext, request: FastifyRequest): Promise<Caller & { checkedAt: number }> {
  const { auth } = context;
  const credentials = headerCredentials(request.headers.authorization);
  if (credentials === 'malformed') throw badRequest('The Authorization header is neither Bearer TOKEN nor Basic user:password.');
  if (credentials !== null) {
    const checkedAt = auth.tick;
    return { principal: await logon(context, request, credentials), session: null, owner: false, checkedAt };
  }
  const session = auth.session(cookieValue(request.headers.cookie, context.cookieName));
  if (session === null) throw unauthenticated();
  // The account's groups changed since they were read: read them again (a new password or a
  // deleted account has already ended the session).
  if (session.account !== null && auth.changedSince(session.account, session.checked)) {
    const checkedAt = auth.tick;
    const groups = await context.services.accounts.groupsOf(session.principal.name);
    if (!auth.isLive(session)) throw unauthenticated();
    session.principal = { ...session.principal, groups };
    session.checked = checkedAt;
  }
  return { principal: session.principal, session, owner: session.owner, checkedAt: session.checked };
}

/**
 * A change from a page must prove it came from the page: the session's CSRF token in a header
 * (another site cannot read it) and an Origin naming this host. Header-authenticated API
 * clients carry no ambient credentials, so they need neither.
 */
export async function mutating(context: WebContext, request: FastifyRequest): Promise<Caller> {
  const caller = await identify(context, request);
  if (caller.session !== null) {
    if (!originMatches(request.headers.origin, request.headers.host)) throw forbidden('The request did not come from this page (Origin does not match Host).');
    if (!sameSecret(request.headers['x-csrf-token'], caller.session.csrf)) throw forbidden('The CSRF token is missing or wrong: reload the page.');
  }
  return caller;
}
