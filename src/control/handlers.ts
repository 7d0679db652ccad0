import { NetApiError } from '../messenger/errors.js';
import { messageToJson, type StoredMessage } from '../messenger/message.js';
import type { Receipt } from '../messenger/events.js';
import type { Caller, Messenger } from '../messenger/messenger.js';
import type { Alias } from '../messenger/aliases.js';
import { normalizeAlias, oemUpperCase } from '../messenger/names.js';
import { NERR } from '../messenger/status.js';
import { describePrincipal, isRemote, type AccessPolicy, type Action, type Principal } from '../security/access.js';
import type { Accounts } from '../security/accounts.js';
import type { AuditLog } from '../security/audit.js';
import { parsePolicy, type AliasPolicy } from '../security/inbound-policy.js';
import type { AliasGate } from '../security/front-door.js';
import type { LogonGate } from '../security/logon-gate.js';

/** Most messages (or audit records) one list call returns; clients page with `afterId`. */
export const MAX_INBOX_PAGE = 1000;

export interface DaemonInfo {
  readonly pid: number;
  readonly dataDir: string;
  readonly workgroup: string;
  readonly startedAt: string;
  /** The secure channel's port and this host's key fingerprint, when the channel is on. */
  readonly securePort?: number;
  readonly hostKey?: string;
}

/** Each alias's allow/deny lists and legacy-input override, kept in the store. */
export interface AliasPolicies {
  get(alias: string): AliasPolicy;
  set(alias: string, policy: AliasPolicy | null): Promise<void>;
}

/** Receipts: of messages stored here, and (through the secure channel) of those sent to netsend hosts. */
export interface ReceiptServices {
  local(id: number): Promise<Receipt>;
  message(id: number): Promise<StoredMessage | null>;
  remote?(host: string, id: number): Promise<Receipt>;
  acknowledge(id: number, surface: string, by: string | null): Promise<Receipt>;
}

/** What the control socket and the secure channel reach in the daemon. */
export interface ControlServices {
  readonly messenger: Messenger;
  readonly info: DaemonInfo;
  readonly access: AccessPolicy;
  readonly accounts: Accounts;
  readonly aliasPolicies: AliasPolicies;
  readonly audit: AuditLog;
  readonly receipts?: ReceiptServices;
  /** Who a local uid is: its login name and, for root and the daemon's own user, Administrators. */
  localPrincipal(uid: number | null): Promise<Principal>;
  /** A NetBIOS name's address, for clients that call another host's daemon by name. */
  resolveHost?(name: string): Promise<string>;
  /** The web inbox, when it is on: mints one-time login URLs for the data dir's owner. */
  web?: { loginUrl(): string };
  /** The front door's rules for adding aliases (login names, per-user quota). */
  readonly aliasGate: AliasGate;
  /** The front door's logons, one for every listener that takes passwords or tokens (a budget per account spans them). */
  readonly logonGate: LogonGate;
}

/** The access rule each operation falls under. */
const ACTION: Readonly<Record<string, Action>> = {
  send: 'send',
  broadcast: 'send',
  sendUsers: 'send',
  'names.list': 'names.read',
  'names.get': 'names.read',
  'names.add': 'names.add',
  'names.delete': 'names.delete',
  'names.policy': 'names.read',
  'names.setPolicy': 'names.add',
  'inbox.list': 'inbox.read',
  'inbox.latest': 'inbox.read',
  status: 'names.read',
  resolve: 'names.read',
  'users.list': 'administer',
  'users.add': 'administer',
  'users.delete': 'administer',
  'users.password': 'administer',
  'users.token': 'administer',
  'users.groups': 'administer',
  'users.key': 'administer',
  'users.tokens': 'administer',
  'users.revoke': 'administer',
  'audit.list': 'administer',
  receipt: 'send',
  'inbox.ack': 'inbox.read',
  'web.url': 'administer',
};

/**
 * Runs one request from the control socket or the secure channel, for `principal`, under the
 * original's access rules. Remote calls are written to the audit log with their outcome.
 */
export async function handleRequest(services: ControlServices, request: Record<string, unknown>, principal: Principal): Promise<unknown> {
  const op = String(request.op);
  const action = ACTION[op];
  if (action === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', `Unknown control operation ${JSON.stringify(request.op)}.`);
  const remote = isRemote(principal);
  try {
    services.access.check(principal, action);
    const result = await run(services, op, request, principal);
    if (remote && action !== 'names.read') audit(services, principal, op, request, NERR.NERR_Success);
    return result;
  } catch (error) {
    if (remote || (error instanceof NetApiError && error.statusName === 'ERROR_ACCESS_DENIED')) {
      audit(services, principal, op, request, error instanceof NetApiError ? error.status : NERR.NERR_InternalError);
    }
    throw error;
  }
}

function audit(services: ControlServices, principal: Principal, op: string, request: Record<string, unknown>, status: number): void {
  const target = ['to', 'name', 'user'].map((key) => request[key]).find((v) => typeof v === 'string');
  services.audit.record({
    event: status === NERR.ERROR_ACCESS_DENIED ? 'refused-call' : 'remote-call',
    principal: describePrincipal(principal),
    source: principal.source,
    detail: target === undefined ? op : `${op} ${String(target)}`,
    status,
  });
}

async function run(services: ControlServices, op: string, request: Record<string, unknown>, principal: Principal): Promise<unknown> {
  const { messenger } = services;
  const caller: Caller = {
    uid: principal.uid,
    name: principal.kind === 'host' ? null : principal.name || null,
    source: principal.source,
    over: principal.over ?? (principal.kind === 'local' ? 'local' : 'secure'),
    localAdministrator: principal.kind === 'local' && services.access.isAdmin(principal),
  };
  switch (op) {
    case 'send': {
      const { to, from, text, host, priority, ttl } = request;
      return messenger.send({ to, from, text, priority, ttl, ...(host === undefined ? {} : { host }) }, caller);
    }
    case 'broadcast':
      return messenger.broadcast({ from: request.from, text: request.text, domain: request.domain }, caller);
    case 'sendUsers':
      return messenger.sendToSessionUsers({ from: request.from, text: request.text }, caller);
    case 'names.list':
      return messenger.listNames();
    case 'names.get':
      return messenger.aliases.get(request.name);
    case 'names.add': {
      const name = normalizeAlias(request.name, 'message name', messenger.charset);
      const refused = await services.aliasGate.problem({ ...principal, administrator: services.access.isAdmin(principal) }, name);
      if (refused !== null) throw new NetApiError(refused.status, refused.reason);
      return messenger.aliases.add(name, principal.uid);
    }
    case 'names.delete': {
      // "for others": a local caller who is not an administrator deletes only names it added
      const alias = messenger.aliases.get(request.name);
      if (!isRemote(principal) && !services.access.isAdmin(principal) && alias.kind !== 'computer' && !ownsAlias(messenger, alias, principal)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `${alias.name} belongs to another user; only an administrator may delete it.`);
      }
      const deleted = await messenger.aliases.delete(alias.name);
      await services.aliasPolicies.set(deleted.name, null);
      return deleted;
    }
    case 'names.policy':
      return services.aliasPolicies.get(messenger.aliases.get(request.name).name);
    case 'names.setPolicy': {
      const alias = messenger.aliases.get(request.name);
      // Remote callers own no alias here: who may message one is for its owner or an administrator.
      const owner = !isRemote(principal) && ownsAlias(messenger, alias, principal);
      if (!owner && !services.access.isAdmin(principal)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `Only ${alias.name}'s owner or an administrator may set who can message it.`);
      }
      const policy = request.policy === null ? null : parsePolicy(request.policy);
      await services.aliasPolicies.set(alias.name, policy);
      return services.aliasPolicies.get(alias.name);
    }
    case 'inbox.list': {
      const afterId = wholeNumber(request.afterId, 0, 'afterId');
      const limit = Math.min(wholeNumber(request.limit, MAX_INBOX_PAGE, 'limit'), MAX_INBOX_PAGE);
      return (await messenger.inbox(afterId, limit, readableBy(services, principal))).map(messageToJson);
    }
    case 'inbox.latest': {
      // the last `limit` messages (inbox --limit), read newest first: a daemon too old for this op
      // answers "not supported" rather than the oldest messages
      const limit = Math.min(wholeNumber(request.limit, MAX_INBOX_PAGE, 'limit'), MAX_INBOX_PAGE);
      return (await messenger.latest(limit, readableBy(services, principal))).map(messageToJson);
    }
    case 'status':
      return { computerName: messenger.computerName, ...services.info, aliases: messenger.listNames().length, role: services.access.role };
    case 'resolve': {
      if (services.resolveHost === undefined) throw new NetApiError('NERR_NameNotFound', 'Name resolution is off on this daemon.');
      return { address: await services.resolveHost(normalizeAlias(request.name, 'server name', messenger.charset)) };
    }
    case 'users.list':
      return services.accounts.list();
    case 'users.add': {
      const groups = request.groups ?? [];
      if (!Array.isArray(groups) || groups.length > 64) throw new NetApiError('ERROR_INVALID_PARAMETER', 'groups must be a list of group names.');
      await services.accounts.add(request.user, optionalString(request.password, 'password'), groups as string[]);
      return { user: request.user, groups };
    }
    case 'users.delete':
      await services.accounts.delete(request.user);
      return { user: request.user };
    case 'users.password':
      await services.accounts.setPassword(request.user, String(optionalString(request.password, 'password') ?? ''));
      return { user: request.user };
    case 'users.token':
      return { user: request.user, token: await services.accounts.issueToken(request.user) };
    case 'users.groups': {
      const add = stringList(request.add, 'add');
      const remove = stringList(request.remove, 'remove');
      for (const group of add) await services.accounts.setMembership(request.user, group, true);
      for (const group of remove) await services.accounts.setMembership(request.user, group, false);
      return { user: request.user, groups: await services.accounts.groupsOf(String(request.user)) };
    }
    case 'users.key':
      await services.accounts.bindHostKey(request.user, request.fingerprint);
      return { user: request.user, fingerprint: request.fingerprint };
    case 'users.tokens':
      return services.accounts.credentials(request.user);
    case 'users.revoke': {
      // null (not a missing field) revokes them all, so a client that forgot the field revokes nothing
      if (request.credential === undefined) throw new NetApiError('ERROR_INVALID_PARAMETER', 'credential: an id, a token, a host key fingerprint, or null for all of them.');
      return { user: request.user, revoked: await services.accounts.revoke(request.user, request.credential) };
    }
    case 'receipt': {
      // A sender's question: what became of the message it sent (here, or at a netsend host).
      const messageId = wholeNumber(request.message, 0, 'message');
      if (services.receipts === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts are off on this daemon.');
      if (typeof request.host === 'string') {
        if (services.receipts.remote === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts from other hosts need the secure channel.');
        return services.receipts.remote(request.host, messageId);
      }
      const message = await services.receipts.message(messageId);
      // a sender sees the receipts of its own messages (a remote account: those it sent by a remote call); administrators all
      const own = isRemote(principal)
        ? message?.senderAddress != null && message.senderUser === principal.name
        : principal.uid !== null && message?.senderAddress === null && message.senderUid === principal.uid;
      if (message === null || (!services.access.isAdmin(principal) && (message.via !== 'local' || !own))) {
        // a message of its own status, not the alias one; another's is "not found" too, so ids reveal nothing
        throw new NetApiError('ERROR_NOT_FOUND', `No message ${messageId} of yours is here.`);
      }
      return services.receipts.local(messageId);
    }
    case 'inbox.ack': {
      // OK on the pop-up, from a terminal: `netsend ack ID`
      const messageId = wholeNumber(request.message, 0, 'message');
      if (services.receipts === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts are off on this daemon.');
      const message = await services.receipts.message(messageId);
      const readable = readableBy(services, principal);
      if (message === null || (readable !== null && !readable.includes(message.to))) {
        throw new NetApiError('ERROR_NOT_FOUND', `No message ${messageId} for you is here.`);
      }
      return services.receipts.acknowledge(messageId, 'cli', principal.name || (principal.uid === null ? null : `uid ${principal.uid}`));
    }
    case 'audit.list': {
      const afterId = wholeNumber(request.afterId, 0, 'afterId');
      const limit = Math.min(wholeNumber(request.limit, MAX_INBOX_PAGE, 'limit'), MAX_INBOX_PAGE);
      return services.audit.list(afterId, limit);
    }
    case 'web.url': {
      // the owner's login: only a local administrator (the kernel vouches for the uid), never a remote account
      if (isRemote(principal)) throw new NetApiError('ERROR_ACCESS_DENIED', 'A one-time web login is only given to a local administrator.');
      if (services.web === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'The web inbox is off on this daemon (http port = 0).');
      return { url: services.web.loginUrl() };
    }
    default:
      throw new NetApiError('ERROR_NOT_SUPPORTED', `Unknown control operation ${JSON.stringify(op)}.`);
  }
}

/**
 * Whose messages a caller may read and acknowledge: an administrator all (null); anyone else
 * those to its own aliases and to the workgroup, as on the web page.
 */
function readableBy(services: ControlServices, principal: Principal): string[] | null {
  if (services.access.isAdmin(principal)) return null;
  const { messenger } = services;
  const own = messenger.aliases.list().filter((alias) => ownsAlias(messenger, alias, principal));
  return [...own.map((alias) => alias.name), oemUpperCase(services.info.workgroup, messenger.charset)];
}

/** A local caller's own aliases: those it added, and the alias of its login name (whoever added it). */
function ownsAlias(messenger: Messenger, alias: Alias, principal: Principal): boolean {
  if (principal.kind === 'local' && principal.name !== '' && alias.name === oemUpperCase(principal.name, messenger.charset)) return true;
  const owner = messenger.aliases.ownerOf(alias.name);
  if (owner !== undefined) return owner !== null && owner === principal.uid;
  return alias.kind === 'user' && principal.name !== '' && alias.name === oemUpperCase(principal.name, messenger.charset);
}

function wholeNumber(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a whole number.`);
  }
  return value;
}

function optionalString(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a string.`);
  return value;
}

function stringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 64 || !value.every((v) => typeof v === 'string')) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `${what} must be a list of names.`);
  }
  return value as string[];
}
