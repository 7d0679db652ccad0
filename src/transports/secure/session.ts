/**
 * One session on the secure channel: who the peer is (its host certificate, a host key bound to
 * an account, or an `auth`), its deadlines, and where each of its requests goes — `deliver` and
 * `receipt` for other hosts, every other operation to the control handlers.
 */
import type { TLSSocket } from 'node:tls';
import { handleRequest, type ControlServices } from '../../control/handlers.js';
import { FEATURES, PROTOCOL_VERSION } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import type { Principal } from '../../security/access.js';
import { keyFingerprint } from '../../security/certificate.js';
import type { LogonGate } from '../../security/logon-gate.js';
import { serveLineConnection } from '../control/lines.js';
import { acceptDelivery } from './deliver.js';
import type { HostCheck } from './host-check.js';
import { logOn, type AccountSession, type AccountSessions } from './logon.js';
import { MAX_ANONYMOUS_LINE_BYTES, authenticatedLineBytes, type SecureLimits } from './protocol.js';
import { answerReceipt } from './receipt.js';

/** What every session of one server shares. */
export interface SessionParts {
  readonly services: ControlServices;
  readonly log: (line: string) => void;
  readonly limits: SecureLimits;
  readonly logons: LogonGate;
  readonly hosts: HostCheck;
  readonly accounts: AccountSessions;
}

/** Serves `socket` until it closes; `deadline` (the handshake-and-logon one) is cancelled at logon. */
export async function runSession(parts: SessionParts, socket: TLSSocket, deadline: NodeJS.Timeout): Promise<void> {
  const source = `${socket.remoteAddress}:${socket.remotePort}`;
  const { services, log, limits, accounts } = parts;
  const certificate = socket.getPeerX509Certificate();
  const fingerprint = certificate === undefined ? null : keyFingerprint(certificate);
  // Lines wait in the socket while the host is checked: their limit depends on the answer.
  const [check, bound] = await Promise.all([
    certificate === undefined || fingerprint === null ? null : parts.hosts.check(socket, certificate, fingerprint),
    // A host key bound to an account (netsend user key) calls with that account's groups: the
    // administrator trusted that key by binding it, whatever name its certificate gives.
    fingerprint === null ? null : services.accounts.forHostKey(fingerprint, source).catch(() => null),
  ]);
  if (socket.destroyed) return;
  const host = check?.host ?? null;
  const refusal = check?.refusal ?? null;
  let refusalAudited = false;
  let principal: Principal | null = bound ?? (host === null ? null : { kind: 'host', name: host.name, uid: null, groups: [], source });

  // Logged on as an account (a bound host key, or an auth): follow it. An unbound host is no account.
  // New groups are read at once; requests wait for the latest read (the store answers in order).
  let groupsRead: Promise<void> | null = null;
  const following: AccountSession = {
    account: null,
    end: () => void socket.destroy(),
    regroup: () => {
      const account = principal?.name;
      if (account === undefined) return;
      const reading: Promise<void> = services.accounts.groupsOf(account).then(
        (groups) => {
          if (principal?.name === account) principal = { ...principal, groups };
          if (groupsRead === reading) groupsRead = null;
        },
        following.end,
      );
      groupsRead = reading;
    },
  };
  accounts.follow(following, bound?.name ?? null);
  socket.on('close', () => accounts.follow(following, null));

  // Anonymous, a session lives until the deadline, whatever it sends; authenticated, until it idles.
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => socket.destroy(), limits.idleMs);
  };
  const authenticated = () => {
    clearTimeout(deadline);
    touch();
  };
  socket.on('close', () => clearTimeout(idleTimer));
  if (principal !== null) authenticated();
  const authenticatedLines = authenticatedLineBytes(services.messenger.maxMessageBytes);

  serveLineConnection(socket, {
    hello: { hello: 'netsend', version: PROTOCOL_VERSION, computerName: services.messenger.computerName, features: FEATURES },
    log,
    maxInFlight: 16,
    // a peer that has not proved who it is gets small lines; see MAX_ANONYMOUS_LINE_BYTES
    maxLineBytes: () => (principal === null ? MAX_ANONYMOUS_LINE_BYTES : authenticatedLines),
    handle: async (request) => {
      if (principal !== null) touch();
      if (request.op === 'auth') {
        principal = await logOn(parts.logons, request, source);
        if (!socket.destroyed) accounts.follow(following, principal.name);
        authenticated();
        return { user: principal.name, groups: principal.groups };
      }
      if (groupsRead !== null) await groupsRead;
      if (principal === null) {
        if (refusal === null) throw new NetApiError('ERROR_ACCESS_DENIED', 'Log on first (auth with a user and password, or a token).');
        if (!refusalAudited) services.audit.record({ event: 'refused-host', principal: `host ${refusal.name}`, source, detail: refusal.detail, status: 5 });
        refusalAudited = true;
        throw refusal.error;
      }
      if (request.op === 'deliver') {
        if (host === null || principal.kind !== 'host') throw new NetApiError('ERROR_ACCESS_DENIED', 'Only netsend hosts deliver messages; send with "send".');
        return acceptDelivery(services, request, host, source, (peer) => parts.hosts.pin(peer));
      }
      if (request.op === 'receipt' && host !== null && principal.kind === 'host') return answerReceipt(services, request, host.fingerprint);
      return handleRequest(services, request, principal);
    },
  });
}
