/**
 * The secure channel's server on loopback for its tests: a real TLS stack, an in-memory store and
 * messenger, raw TLS peers, and throwaway or CA-issued host certificates. Named *.test.helper.ts:
 * the package leaves out *.test.* files, and the test runner takes only *.test.js ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import type { ControlServices } from '../../control/handlers.js';
import { AccessPolicy } from '../../security/access.js';
import { Accounts } from '../../security/accounts.js';
import { AuditLog, type AuditEntry } from '../../security/audit.js';
import { keyFingerprint, selfSignedCertificate } from '../../security/certificate.js';
import { loadHostIdentity, signMessage, type HostIdentity } from '../../security/host-identity.js';
import { KnownHosts } from '../../security/known-hosts.js';
import { NetApiError } from '../../messenger/errors.js';
import type { IncomingMessage } from '../../messenger/message.js';
import type { SecureTrust } from './client.js';
import type { SecureLimits } from './protocol.js';
import { LogonGate } from '../../security/logon-gate.js';
import { SecureServer } from './server.js';

export const MAX_MESSAGE_BYTES = 64 * 1024;

export interface Harness {
  server: SecureServer;
  port: number;
  dir: string;
  audit: AuditEntry[];
  received: IncomingMessage[];
  logs: string[];
  accounts: Accounts;
  knownHosts: KnownHosts;
  /** Set `on` and the messenger refuses every message at its front door (as a flood is refused). */
  refuse: { on: boolean };
  close: () => Promise<void>;
}

export async function startServer(options: { trust?: SecureTrust; caPem?: string; identity?: HostIdentity; limits?: Partial<SecureLimits> } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-secure-'));
  const identity = options.identity ?? (await loadHostIdentity({ dataDir: dir, computerName: 'SERVERA' }));
  const users = new Map<string, { hash: string | null; groups: Set<string> }>();
  const tokens = new Map<string, string>();
  const audit: AuditEntry[] = [];
  const store = {
    getUser: async (n: string) => {
      const u = users.get(n);
      return u ? { name: n, passwordHash: u.hash, groups: [...u.groups] } : null;
    },
    putUser: async (n: string, hash: string | null) => {
      const u = users.get(n) ?? { hash: null, groups: new Set<string>() };
      u.hash = hash;
      users.set(n, u);
    },
    deleteUser: async (n: string) => users.delete(n),
    listUsers: async () => [],
    setMembership: async (u: string, g: string, member: boolean) => void (member ? users.get(u)?.groups.add(g) : users.get(u)?.groups.delete(g)),
    addToken: async (h: string, u: string) => void tokens.set(h, u),
    userForToken: async (h: string) => tokens.get(h) ?? null,
    appendAudit: async (e: AuditEntry) => audit.push(e),
    listAudit: async () => [],
  };
  const accounts = new Accounts(store as never);
  const received: IncomingMessage[] = [];
  const refuse = { on: false };
  let nextId = 1;
  const services = {
    messenger: {
      computerName: 'SERVERA',
      charset: 'CP850',
      maxMessageBytes: MAX_MESSAGE_BYTES,
      receive: async (m: IncomingMessage, options?: { beforeStore?: () => Promise<void> }) => {
        // the door comes first, as in the Messenger: a refused message never reaches beforeStore
        if (refuse.on) throw new NetApiError('NERR_NameInUse', 'this host sends too fast; try again later');
        await options?.beforeStore?.();
        received.push(m);
        return { ...m, id: nextId++ };
      },
      send: async () => ({ delivered: 'local', id: nextId++ }),
    },
    info: { pid: 1, dataDir: dir, workgroup: 'WG', startedAt: '' },
    access: new AccessPolicy({ role: 'standalone server', remoteCallGroups: [] }),
    accounts,
    audit: new AuditLog(store as never, () => {}),
    aliasPolicies: { get: () => null, set: async () => {} },
    localPrincipal: async () => ({ kind: 'local', name: '', uid: 0, groups: [], source: null }),
  } as unknown as ControlServices;
  Object.assign(services, { logonGate: new LogonGate({ accounts, audit: services.audit }) });
  const logs: string[] = [];
  const knownHosts = new KnownHosts(join(dir, 'known-hosts'));
  const server = new SecureServer({
    identity,
    services,
    addresses: ['127.0.0.1'],
    port: 0,
    knownHosts,
    trust: options.trust ?? 'tofu',
    log: (line) => logs.push(line),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.caPem ? { caPem: options.caPem } : {}),
  });
  await server.listen();
  const port = Number(server.endpoints[0]?.split(':').pop());
  return { server, port, dir, audit, received, logs, accounts, knownHosts, refuse, close: async () => (await server.close(), await rm(dir, { recursive: true, force: true })) };
}

export interface Cert {
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
  fingerprint: string;
}

/** A key and self-signed certificate anyone can make, naming any host. */
export function throwawayCert(name: string): Cert {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    certPem: selfSignedCertificate(name, createPublicKey(privateKey), privateKey),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    privateKey,
    fingerprint: keyFingerprint(createPublicKey(privateKey)),
  };
}

export interface Peer {
  socket: TLSSocket;
  lines: Record<string, unknown>[];
  closed: Promise<void>;
  isClosed: () => boolean;
  send: (request: Record<string, unknown> | string) => void;
  /** The answer with this id (or the id-0 answer to a line the server could not take); null if the connection closed first. */
  answer: (id: number) => Promise<Record<string, unknown> | null>;
}

export function peer(port: number, options: { cert?: Cert; localAddress?: string } = {}): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.cert ? { key: options.cert.keyPem, cert: options.cert.certPem } : {}),
    });
    const lines: Record<string, unknown>[] = [];
    const waiters = new Set<() => void>();
    let buffer = '';
    let isClosed = false;
    const closed = new Promise<void>((done) =>
      socket.on('close', () => {
        isClosed = true;
        for (const w of waiters) w();
        done();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
      }
      for (const w of waiters) w();
    });
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.once('secureConnect', () =>
      resolve({
        socket,
        lines,
        closed,
        isClosed: () => isClosed,
        send: (request) => void socket.write(`${typeof request === 'string' ? request : JSON.stringify(request)}\n`),
        answer: (id) =>
          new Promise((done) => {
            const check = () => {
              const found = lines.find((l) => 'ok' in l && (l.id === id || l.id === 0));
              if (found !== undefined || isClosed) {
                waiters.delete(check);
                done(found ?? null);
              }
            };
            waiters.add(check);
            check();
          }),
      }),
    );
  });
}

/** A delivery as a sending daemon makes it, signed with `cert`'s key. */
export function delivery(cert: Cert, host: string, overrides: Record<string, unknown> = {}, id = 1): Record<string, unknown> {
  const fields = { from: 'BOB', to: 'ALICE', text: 'hello', title: null, user: 'bob', sentAt: new Date().toISOString(), host, priority: 'normal', ttl: null, ...overrides };
  return { id, op: 'deliver', ...fields, signature: signMessage(fields as never, cert.privateKey) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A site CA and a host certificate it signed, named by an FQDN (openssl, as an administrator would). */
export async function sitePki(dir: string, hostCn: string): Promise<{ caPem: string; certFile: string; keyFile: string }> {
  const openssl = (...args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  };
  openssl('genpkey', '-algorithm', 'ed25519', '-out', 'ca.key');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Site CA', '-days', '30', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign');
  openssl('genpkey', '-algorithm', 'ed25519', '-out', 'host.key');
  openssl('req', '-new', '-key', 'host.key', '-subj', `/CN=${hostCn}`, '-out', 'host.csr');
  openssl('x509', '-req', '-in', 'host.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', 'host.pem');
  return { caPem: await readFile(join(dir, 'ca.pem'), 'utf8'), certFile: join(dir, 'host.pem'), keyFile: join(dir, 'host.key') };
}
