/**
 * What an administrator needs to put a realm on a NATS hub (docs/hub.md): a nats-server config
 * fragment (one account per realm; one nkey user per host whose subject permissions let it publish
 * only as itself and read only its own inbox; one admin user that makes the stream and the bucket),
 * one seed file per host, and a README. `setupRealm` is the admin's one run that makes the stream
 * and the bucket, which provisioned hosts may open but not create.
 *
 * The hub's nkeys are new keys, not the hosts' Ed25519 host keys: NATS authenticates by signing a
 * nonce the server chooses, so a host key used there would sign bytes a hostile hub node picked
 * (which could be a registry record or an envelope that host key signs); a host key may also be a
 * site CA's RSA or ECDSA key, which nkeys cannot carry; and a hub credential is revoked or rotated
 * without touching the host's identity. A stolen seed lets its holder publish as that host, but
 * not sign as it: receivers still check every envelope's signature.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createUser, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NetApiError } from '../messenger/errors.js';
import { ensureRealmStream, hubConnectionOptions, isPermissionViolation, openRegistryBucket, realmNames } from './connection.js';
import { MAX_ENVELOPE_BYTES } from './envelope.js';
import { subjectToken } from './subject.js';

/** NATS's default max_payload is 1 MiB; the largest sealed envelope is MAX_ENVELOPE_BYTES (~1.34 MiB). */
export const HUB_MAX_PAYLOAD = '2MB';
const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
if (MAX_ENVELOPE_BYTES > MAX_PAYLOAD_BYTES) throw new Error('HUB_MAX_PAYLOAD is below MAX_ENVELOPE_BYTES');

export interface Permissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/**
 * A host's subjects (2.9 JetStream API), all it may publish to and subscribe to. Whatever a
 * subject does not cover (a consumer-create request's body, a name claim's value) is checked by the
 * receivers: envelopes and registry records are signed by the host key.
 */
export function hostPermissions(realm: string, host: string): Permissions {
  const names = realmNames(realm);
  const t = subjectToken(host);
  const stream = names.stream;
  const durable = names.consumer(host);
  const kvStream = `KV_${names.bucket}`;
  const kv = `$KV.${names.bucket}`;
  return {
    publish: [
      // messages and receipts, to anyone, only as itself
      `netsend.${realm}.*.msg.${t}`,
      `netsend.${realm}.*.rcpt.${t}`,
      // its inbox: the durable named for it, created only with a filter inside its own subjects
      // (the filter rides in the subject; 2.9 refuses a body whose filter differs), pulled, acked
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${stream}`,
      `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
      `$JS.API.CONSUMER.CREATE.${stream}.${durable}.netsend.${realm}.${t}.>`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      `$JS.ACK.${stream}.${durable}.>`,
      // the registry: its own host record and its own claims, no other host's; reads and a watch
      `$JS.API.STREAM.INFO.${kvStream}`,
      `${kv}.h.${t}`,
      `${kv}.c.${t}.*`,
      `$JS.API.DIRECT.GET.${kvStream}.${kv}.>`,
      `$JS.API.STREAM.MSG.GET.${kvStream}`,
      `$JS.API.CONSUMER.CREATE.${kvStream}.*.${kv}.>`,
      `$JS.API.CONSUMER.INFO.${kvStream}.*`,
      `$JS.FC.${kvStream}.>`,
    ],
    // every reply and the watch's deliveries come to its own inbox prefix (nats.js inboxPrefix)
    subscribe: [`${names.inboxPrefix(host)}.>`],
  };
}

/** The admin may do anything in the realm's account: it makes the stream and the bucket. */
export const ADMIN_PERMISSIONS: Permissions = { publish: ['>'], subscribe: ['>'] };

export interface ProvisionedUser {
  /** The host's computer name, or 'admin'. */
  readonly name: string;
  readonly publicKey: string;
  readonly permissions: Permissions;
}

const quote = (s: string) => JSON.stringify(s);
const list = (items: readonly string[], indent: string) => `[\n${items.map((i) => `${indent}  ${quote(i)}`).join('\n')}\n${indent}]`;

/** The nats-server config fragment: max_payload and the realm's account with its users. */
export function accountsConfig(realm: string, users: readonly ProvisionedUser[], writtenAt = new Date()): string {
  const names = realmNames(realm);
  const user = (u: ProvisionedUser) => {
    const { publish, subscribe } = u.permissions;
    const what = u.name === 'admin' ? `admin: creates ${names.stream} and ${names.bucket} (netsend hub setup)` : `host ${u.name}`;
    return [
      `      # ${what}`,
      '      {',
      `        nkey: ${quote(u.publicKey)}`,
      '        permissions: {',
      `          publish: { allow: ${list(publish, '          ')} }`,
      `          subscribe: { allow: ${list(subscribe, '          ')} }`,
      '        }',
      '      }',
    ].join('\n');
  };
  return [
    `# netsend hub, realm "${realm}": written by \`netsend hub provision\` at ${writtenAt.toISOString()}.`,
    "# Include it in every node's nats-server.conf, beside that node's jetstream { store_dir } and",
    '# cluster { } blocks (README.txt). Hosts log in with their nkey seed (hosts/*.nk).',
    '',
    `# the largest sealed envelope is ${MAX_ENVELOPE_BYTES} bytes; NATS's default max_payload is 1MB`,
    `max_payload: ${HUB_MAX_PAYLOAD}`,
    '',
    'accounts {',
    `  ${quote(accountName(realm))}: {`,
    '    jetstream: enabled',
    '    users: [',
    users.map(user).join('\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The realm's NATS account: realms on one cluster are apart by account as well as by subject. */
export const accountName = (realm: string) => `netsend_${realm}`;

export interface ProvisionOptions {
  readonly hosts: readonly string[];
  readonly realm: string;
  readonly outDir: string;
  /** Written into README.txt's host settings; empty, a placeholder. */
  readonly servers: readonly string[];
}

export interface ProvisionResult {
  readonly configFile: string;
  readonly readmeFile: string;
  readonly admin: { readonly file: string; readonly publicKey: string; readonly reused: boolean };
  readonly hosts: ReadonlyArray<{ readonly name: string; readonly file: string; readonly publicKey: string; readonly reused: boolean }>;
}

/** The seed file's line: what hubAuthenticator (connection.ts) looks for. */
const SEED_LINE = /^SU[A-Z2-7]{50,}$/;

/**
 * Writes the fragment, the seeds (mode 0600) and README.txt to `outDir`. A seed already there is
 * kept, so running it again with one more host adds that host and leaves the others' credentials.
 */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const { realm, outDir } = options;
  const hosts = [...new Set(options.hosts)];
  await mkdir(join(outDir, 'hosts'), { recursive: true, mode: 0o700 });
  const adminFile = join(outDir, 'admin.nk');
  const admin = await seedFile(adminFile, `netsend hub admin, realm ${realm}`);
  const made = [];
  for (const name of hosts) {
    const file = join(outDir, 'hosts', `${subjectToken(name)}.nk`);
    made.push({ name, file, ...(await seedFile(file, `netsend hub credentials of ${name}, realm ${realm}: for that host only`)) });
  }
  const users: ProvisionedUser[] = [
    { name: 'admin', publicKey: admin.publicKey, permissions: ADMIN_PERMISSIONS },
    ...made.map((h) => ({ name: h.name, publicKey: h.publicKey, permissions: hostPermissions(realm, h.name) })),
  ];
  const configFile = join(outDir, `netsend-${realm}.conf`);
  await writeFile(configFile, accountsConfig(realm, users));
  const readmeFile = join(outDir, 'README.txt');
  await writeFile(readmeFile, readme(realm, hosts, options.servers));
  return { configFile, readmeFile, admin: { file: adminFile, ...admin }, hosts: made };
}

/** The nkey in `file`, or a new one written there (0600, even if the file was there with another mode). */
async function seedFile(file: string, comment: string): Promise<{ publicKey: string; reused: boolean }> {
  let existing: KeyPair | null = null;
  try {
    const seed = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim()).find((l) => SEED_LINE.test(l));
    if (seed === undefined) throw new Error(`${file} is there but holds no nkey user seed: move it away first`);
    existing = fromSeed(new TextEncoder().encode(seed));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = existing ?? createUser();
  if (existing === null) await writeFile(file, `# ${comment}\n${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { publicKey: pair.getPublicKey(), reused: existing !== null };
}

function readme(realm: string, hosts: readonly string[], servers: readonly string[]): string {
  const urls = servers.length > 0 ? servers.join(',') : 'tls://hub1.example:4222,tls://hub2.example:4222,tls://hub3.example:4222';
  return `netsend hub, realm "${realm}" (written by netsend hub provision; docs/hub.md tells the whole story)

netsend-${realm}.conf  nats-server config fragment: the realm's account, one user per host, max_payload
admin.nk               the admin's nkey seed: makes the stream and the bucket. Keep it with the administrator.
hosts/NAME.nk          one per host (${hosts.join(', ')}): copy each to its host only, mode 0600.

1. On each of the three nodes, in nats-server.conf, beside jetstream { store_dir: ... } and the
   cluster { } block, add the line
       include ./netsend-${realm}.conf
   then restart the node (or send it SIGHUP to reload).
2. Once, as the administrator (hosts may open the stream and the bucket, not create them):
       netsend hub setup --servers ${urls} --credentials admin.nk --realm ${realm}
3. On each host, in its netsend config (or as --hub-… flags):
       hub servers = ${urls}
       hub credentials file = /etc/netsend/hub.nk      (that host's hosts/NAME.nk)
       hub realm = ${realm}
       hub tls ca file = /etc/netsend/hub-ca.pem       (only if your own CA signs the servers' certificates)
   A host's computer name must be the name it was provisioned as.

Each host may publish only as itself and read only its own inbox: NATS refuses anything else.
To add a host, run provision again with every host: the seeds already here are kept.
To take a host gone for good out of the registry: netsend hub forget HOST --servers ${urls} --credentials admin.nk --realm ${realm}
`;
}

export interface SetupOptions {
  readonly servers: readonly string[];
  readonly credentialsFile: string;
  readonly tlsCaFile: string;
  readonly realm: string;
  readonly replicas: number;
}

/**
 * The admin's run: the realm's stream and registry bucket made (or found) on the hub.
 * @throws NetApiError ERROR_ACCESS_DENIED for credentials that may not make them, NERR_NetworkError when the hub does not answer
 */
export function setupRealm(options: SetupOptions): Promise<{ stream: string; bucket: string; replicas: number }> {
  const names = realmNames(options.realm);
  return asAdmin(options, `make ${names.stream} and ${names.bucket}`, async (nc) => {
    await ensureRealmStream(nc, options.realm, options.replicas);
    await openRegistryBucket(nc, options.realm, options.replicas);
    const info = await (await jetstreamManager(nc, { timeout: 5000 })).streams.info(names.stream);
    return { stream: names.stream, bucket: names.bucket, replicas: info.config.num_replicas };
  });
}

/**
 * The admin's removal of a host gone for good: its host record and claims, which the registry
 * keeps (dead) until their host comes back, deleted (a marker each: a KV purge is a rollup,
 * which the registry's stream does not take).
 * Returns the keys deleted. The bucket must be there: this never makes one.
 * @throws NetApiError ERROR_ACCESS_DENIED for credentials that may not, NERR_NetworkError when the hub does not answer
 */
export function forgetHost(options: Omit<SetupOptions, 'replicas'> & { readonly host: string }): Promise<string[]> {
  const names = realmNames(options.realm);
  const t = subjectToken(options.host);
  return asAdmin(options, `change ${names.bucket}`, async (nc) => {
    await (await jetstreamManager(nc, { timeout: 5000 })).streams.info(`KV_${names.bucket}`);
    const kv = await new Kvm(nc).open(names.bucket);
    const keys = (await kv.get(`h.${t}`))?.operation === 'PUT' ? [`h.${t}`] : [];
    // one filter a listing: nats-server 2.9 takes no more
    for await (const key of await kv.keys(`c.${t}.*`)) keys.push(key);
    for (const key of keys) await kv.delete(key);
    return keys;
  });
}

/** Runs `work` on a connection with the admin's credentials, its failures said as the CLI reports them. */
async function asAdmin<T>(options: Omit<SetupOptions, 'replicas'>, what: string, work: (nc: NatsConnection) => Promise<T>): Promise<T> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ ...(await hubConnectionOptions({ ...options, computerName: 'admin' })), timeout: 5000, maxReconnectAttempts: 3 });
    return await work(nc);
  } catch (error) {
    if (isPermissionViolation(error) || isPermissionViolation((error as Error).cause)) {
      throw new NetApiError('ERROR_ACCESS_DENIED', `These credentials may not ${what}: use the admin seed hub provision wrote (admin.nk).`, { cause: error });
    }
    throw new NetApiError('NERR_NetworkError', `The hub did not do it: ${(error as Error).message}.`, { cause: error });
  } finally {
    await nc?.close();
  }
}
