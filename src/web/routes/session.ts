/** Sessions: who the page is logged in as, logging in (a one-time link or a password) and out. */
import type { FastifyPluginAsync } from 'fastify';
import type { Principal } from '../../security/access.js';
import { originMatches } from '../auth.js';
import { badRequest, forbidden, HttpError } from '../errors.js';
import { chargeLogon, identify, logon, mutating, refuseLogon, source } from './callers.js';
import type { WebContext } from './context.js';
import { jsonBody, ownAlias } from './shared.js';

export const sessionRoutes: FastifyPluginAsync<WebContext> = async (app, context) => {
  const { auth, services } = context;

  app.get('/api/session', async (request) => {
    const caller = await identify(context, request);
    const sendProblem = services.access.problem(caller.principal, 'send');
    return {
      user: caller.principal.name,
      owner: caller.owner,
      admin: services.access.isAdmin(caller.principal),
      csrf: caller.session?.csrf ?? null,
      computerName: services.messenger.computerName,
      workgroup: context.workgroup,
      from: ownAlias(context, caller.principal) ?? services.messenger.computerName,
      canSend: sendProblem === null,
      // why not, in the access rules' own words, for the page to show in the compose box's place
      sendProblem,
      canManageAliases: services.access.problem(caller.principal, 'names.add') === null,
      maxMessageBytes: services.messenger.maxMessageBytes,
    };
  });

  // Logging in: a one-time token (the owner's URL) or an account's user name and password.
  app.post('/api/login', async (request, reply) => {
    if (!originMatches(request.headers.origin, request.headers.host)) throw forbidden('The login did not come from this page (Origin does not match Host).');
    const body = jsonBody(request);
    let principal: Principal;
    let owner = false;
    const checkedAt = auth.tick;
    if (body.token !== undefined) {
      // charged to the address like a password: guessing links is guessing passwords
      chargeLogon(context, request, 'one-time login');
      if (!auth.consumeLoginToken(body.token)) {
        throw refuseLogon(context, request, 'one-time login', 'the login link was used or has expired', false, 'This login link was already used or has expired: ask for a new one with "netsend web url".');
      }
      context.logons.refund(source(request));
      principal = await context.ownerPrincipal();
      owner = true;
    } else if (typeof body.user === 'string' && typeof body.password === 'string') {
      principal = await logon(context, request, { user: body.user, password: body.password });
    } else {
      throw badRequest('Send {"user","password"} or {"token"}.');
    }
    const created = auth.createSession(principal, owner, checkedAt);
    if (created === null) throw new HttpError(503, 'ERROR_NOT_ENOUGH_MEMORY', 'Too many web sessions are open on this server; try again later.');
    const { id, session } = created;
    const maxAge = Math.floor(auth.sessionLifetimeMs / 1000);
    reply.header('Set-Cookie', `${context.cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`);
    return { user: principal.name, owner, csrf: session.csrf };
  });

  app.post('/api/logout', async (request, reply) => {
    const caller = await mutating(context, request);
    if (caller.session !== null) {
      auth.end(caller.session);
      context.push.closeSession(caller.session.key);
    }
    reply.header('Set-Cookie', `${context.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { loggedOut: true };
  });
};
