/**
 * What `netsend hub provision` writes, enforced by NATS itself: a 3-node cluster runs on the
 * provisioned config fragment, and each host logs in with its own nkey seed. A host publishes
 * only as itself and reads only its own inbox; the server refuses the rest (a permissions
 * violation the client is told of), and two daemons still deliver by name through it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { ensureRealmStream, HubConnection, hubConnectionOptions, openRegistryBucket, realmNames, type HubSettings } from '../../src/hub/connection.js';
import { forgetHost, provision, setupRealm, type ProvisionResult } from '../../src/hub/provision.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { NatsCluster, natsServerUnavailable } from '../helpers/nats.js';

const REALM = 'acme';
const names = realmNames(REALM);
const NO_LAN = ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no'];

/** A host's client, logged in with its seed, and every permissions violation the server told it of. */
interface AsHost {
  readonly nc: NatsConnection;
  readonly violations: PermissionViolationError[];
  refused(operation: 'publish' | 'subscription', subject: string): Promise<void>;
}

describe('hub permissions from netsend hub provision, on a 3-node cluster', { skip: natsServerUnavailable() ?? false }, () => {
  let dir: string;
  let provisioned: ProvisionResult;
  let cluster: NatsCluster;
  const clients: NatsConnection[] = [];
  const daemons: DaemonProcess[] = [];

  const settingsOf = (host: string): HubSettings => ({
    servers: cluster.urls,
    credentialsFile: provisioned.hosts.find((h) => h.name === host)?.file ?? '',
    tlsCaFile: '',
    realm: REALM,
    computerName: host,
  });

  async function as(host: string): Promise<AsHost> {
    const nc = await connect(await hubConnectionOptions(settingsOf(host)));
    clients.push(nc);
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error' && s.error instanceof PermissionViolationError) violations.push(s.error);
    })();
    const refused = async (operation: 'publish' | 'subscription', subject: string) => {
      for (let i = 0; i < 40 && !violations.some((v) => v.operation === operation && v.subject === subject); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        violations.some((v) => v.operation === operation && v.subject === subject),
        `no permissions violation for ${operation} to ${subject}; got: ${violations.map((v) => v.message).join('; ')}`,
      );
    };
    return { nc, violations, refused };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ns-prov-'));
    provisioned = await provision({ hosts: ['HOSTA', 'HOSTB'], realm: REALM, outDir: join(dir, 'out'), servers: [] });
    cluster = await NatsCluster.start({ nodes: 3, accounts: await readFile(provisioned.configFile, 'utf8') });
    // hosts may open the stream and the bucket, not make them: the admin's run does
    await setupRealm({ servers: cluster.urls, credentialsFile: provisioned.admin.file, tlsCaFile: '', realm: REALM, replicas: 3 });
  });
  after(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await Promise.allSettled(clients.map((nc) => nc.close()));
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('provision writes one seed per host, mode 0600, and keeps them when run again', async () => {
    for (const file of [provisioned.admin.file, ...provisioned.hosts.map((h) => h.file)]) assert.equal((await stat(file)).mode & 0o777, 0o600, file);
    const again = await provision({ hosts: ['HOSTA', 'HOSTB', 'HOSTC'], realm: REALM, outDir: join(dir, 'again'), servers: [] });
    const rerun = await provision({ hosts: ['HOSTA', 'HOSTB', 'HOSTC'], realm: REALM, outDir: join(dir, 'again'), servers: [] });
    assert.deepEqual(rerun.hosts.map((h) => [h.publicKey, h.reused]), again.hosts.map((h) => [h.publicKey, true]));
  });

  test("a host publishes as itself; NATS refuses it publishing as another host or writing another's registry records", async () => {
    const a = await as('HOSTA');
    const js = jetstream(a.nc);
    const ack = await js.publish(names.message('HOSTB', 'HOSTA'), 'for HOSTB, from HOSTA');
    assert.equal(ack.stream, names.stream);

    const forged = names.message('HOSTB', 'HOSTC');
    await assert.rejects(js.publish(forged, 'forged as HOSTC', { timeout: 2000 }));
    await a.refused('publish', forged);
    const forgedReceipt = names.receipt('HOSTA', 'HOSTB');
    a.nc.publish(forgedReceipt, 'a receipt as HOSTB');
    await a.refused('publish', forgedReceipt);

    // the registry: its own records only; another's claim can be neither overwritten nor deleted
    const kv = await openRegistryBucket(a.nc, REALM, 3);
    const registry = `$KV.${names.bucket}`;
    await assert.rejects(kv.put('h.HOSTB', 'HOSTB is mine now'));
    await a.refused('publish', `${registry}.h.HOSTB`);
    assert.ok((await kv.create('c.HOSTA.MINE', 'a claim of its own')) > 0);
    await assert.rejects(kv.put('c.HOSTB.CAROL', 'junk in the way of HOSTB'));
    await a.refused('publish', `${registry}.c.HOSTB.CAROL`);
    a.violations.length = 0;
    await assert.rejects(kv.delete('c.HOSTB.CAROL'));
    await a.refused('publish', `${registry}.c.HOSTB.CAROL`);
    a.violations.length = 0;
    await assert.rejects(kv.delete('h.HOSTB'));
    await a.refused('publish', `${registry}.h.HOSTB`);
    // its own key with a rollup header would empty the whole registry: the stream takes none
    const rollup = headers();
    rollup.set('Nats-Rollup', 'all');
    await assert.rejects(js.publish(`${registry}.c.HOSTA.MINE`, 'wipe', { headers: rollup }), /rollup not permitted/);
    const adminJsm = await jetstreamManager(await adminClient());
    // read from the stream's leader: a KV get may be answered by a replica that has not applied the create yet
    const claim = await adminJsm.streams.getMessage(`KV_${names.bucket}`, { last_by_subj: `${registry}.c.HOSTA.MINE` });
    assert.equal(claim?.string(), 'a claim of its own', 'the registry is as it was');

    assert.equal((await adminJsm.streams.info(names.stream)).state.messages, 1, 'only the message as HOSTA reached the stream');
  });

  test("a host cannot create, read or pull another host's consumer, nor subscribe to its subjects", async () => {
    const a = await as('HOSTA');
    const jsm = await jetstreamManager(a.nc, { timeout: 2000 });
    // HOSTB's inbox, made through the code the daemon runs
    const hubB = await HubConnection.open(settingsOf('HOSTB'), () => {});
    try {
      const inboxB = await hubB.inbox();

      const theirs = { durable_name: names.consumer('HOSTB'), filter_subject: names.inbox('HOSTB'), ack_policy: AckPolicy.Explicit };
      await assert.rejects(jsm.consumers.add(names.stream, theirs));
      await a.refused('publish', `$JS.API.CONSUMER.CREATE.${names.stream}.host_HOSTB.${names.inbox('HOSTB')}`);
      const mineOnTheirs = { ...theirs, durable_name: names.consumer('HOSTA') };
      await assert.rejects(jsm.consumers.add(names.stream, mineOnTheirs));
      await a.refused('publish', `$JS.API.CONSUMER.CREATE.${names.stream}.host_HOSTA.${names.inbox('HOSTB')}`);
      // its own create subject with HOSTB's filter in the body: the server holds the two against each other
      const sneaky = await a.nc.request(`$JS.API.CONSUMER.CREATE.${names.stream}.host_HOSTA.${names.inbox('HOSTA')}`, JSON.stringify({ stream_name: names.stream, config: mineOnTheirs }), { timeout: 2000 });
      assert.ok((sneaky.json() as { error?: unknown }).error !== undefined, sneaky.string());

      await assert.rejects(jsm.consumers.info(names.stream, names.consumer('HOSTB')));
      await a.refused('publish', `$JS.API.CONSUMER.INFO.${names.stream}.host_HOSTB`);
      const next = `$JS.API.CONSUMER.MSG.NEXT.${names.stream}.host_HOSTB`;
      await assert.rejects(a.nc.request(next, JSON.stringify({ batch: 1 }), { timeout: 1000 }));
      await a.refused('publish', next);
      a.nc.subscribe(names.inbox('HOSTB'));
      await a.refused('subscription', names.inbox('HOSTB'));
      await assert.rejects(jsm.streams.delete(names.stream));
      await a.refused('publish', `$JS.API.STREAM.DELETE.${names.stream}`);
      // nor make a stream: told to ask the administrator
      await assert.rejects(ensureRealmStream(a.nc, 'elsewhere', 1), /may not create it: run "netsend hub setup"/);

      // and HOSTB still gets the message HOSTA sent it
      const got = await inboxB.next({ expires: 5000 });
      assert.equal(got?.string(), 'for HOSTB, from HOSTA');
      await got?.ackAck();
    } finally {
      await hubB.close();
    }
  });

  test('two daemons with their provisioned credentials: one claims an alias, the other is refused it and delivers a message to it through the cluster', async () => {
    const start = async (host: string) => {
      const { dir: dataDir } = await tempDataDir();
      const creds = settingsOf(host).credentialsFile;
      const args = [...NO_LAN, '--hub-servers', cluster.servers, '--hub-credentials-file', creds, '--hub-realm', REALM];
      const daemon = await DaemonProcess.start(dataDir, args, { env: { NETSEND_NETBIOS_NAME: host }, timeoutMs: 20_000 });
      daemons.push(daemon);
      await daemon.waitFor(() => daemon.stderr.includes('hub: joined realm'), 20_000, `${host} to join the hub`);
      return daemon;
    };
    const [a, b] = await Promise.all([start('HOSTA'), start('HOSTB')]);
    try {
      // an alias claimed under HOSTB's own key, the one subject its credentials may write claims to
      const added = await b.cli(['name', 'CAROL', '/add']);
      assert.equal(added.code, 0, `${added.stdout}${added.stderr}\n${b.stderr}`);
      let sent = await a.cli(['send', 'CAROL', 'through the provisioned hub']);
      // the claim may reach HOSTA's replica a moment after it was made
      for (let i = 0; i < 20 && sent.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        sent = await a.cli(['send', 'CAROL', 'through the provisioned hub']);
      }
      const taken = await a.cli(['name', 'CAROL', '/add']);
      assert.equal(taken.code, 1, `${taken.stdout}${taken.stderr}`);
      assert.match(taken.stderr, /NERR_DuplicateName 2297/);
      assert.equal(sent.code, 0, `${sent.stdout}${sent.stderr}\n${a.stderr}`);
      assert.match(sent.stdout, /The hub delivered it|It waits at the hub|The hub has not taken it yet/);
      const deadline = Date.now() + 15_000;
      let inbox = '';
      while (!inbox.includes('through the provisioned hub') && Date.now() < deadline) {
        inbox = (await b.cli(['inbox', '--json'])).stdout;
        if (!inbox.includes('through the provisioned hub')) await new Promise((r) => setTimeout(r, 200));
      }
      const message = inbox.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.text === 'through the provisioned hub');
      assert.ok(message !== undefined, `not delivered:\n${b.stderr}`);
      assert.equal(message.from, 'HOSTA');
      assert.equal(message.verified, true);
      assert.doesNotMatch(a.stderr + b.stderr, /Permissions Violation|may not create/i);
    } finally {
      await Promise.allSettled([a.stop(), b.stop()]);
      await Promise.allSettled([a, b].map((d) => rm(d.dataDir, { recursive: true, force: true })));
    }
  });

  test("only the admin may take a host gone for good out of the registry: its host record and claims", async () => {
    const hub = { servers: cluster.urls, tlsCaFile: '', realm: REALM, host: 'HOSTB' };
    await assert.rejects(forgetHost({ ...hub, credentialsFile: settingsOf('HOSTA').credentialsFile }), (error: Error & { statusName?: string }) => error.statusName === 'ERROR_ACCESS_DENIED');
    const purged = await forgetHost({ ...hub, credentialsFile: provisioned.admin.file });
    // its computer name, the alias it claimed and the user its daemon runs as
    assert.ok(['h.HOSTB', 'c.HOSTB.CAROL'].every((key) => purged.includes(key)), purged.join());
    assert.ok(purged.every((key) => /^(h\.HOSTB|c\.HOSTB\..+)$/.test(key)), purged.join());
    const kv = await openRegistryBucket(await adminClient(), REALM, 3);
    const left: string[] = [];
    for await (const key of await kv.keys()) left.push(key);
    assert.ok(left.includes('h.HOSTA') && left.includes('c.HOSTA.MINE'), left.join());
    assert.ok(!left.some((key) => key.includes('HOSTB')), left.join());
  });

  test('a registry bucket made the usual way (rollup headers on, with which any host could empty it) is refused, with what to do', async () => {
    await new Kvm(await adminClient()).create(realmNames('usual').bucket, { history: 1 });
    await assert.rejects(setupRealm({ servers: cluster.urls, credentialsFile: provisioned.admin.file, tlsCaFile: '', realm: 'usual', replicas: 3 }), /takes rollup headers.*run "netsend hub setup" again/);
  });

  async function adminClient(): Promise<NatsConnection> {
    const nc = await connect(await hubConnectionOptions({ ...settingsOf('admin'), credentialsFile: provisioned.admin.file }));
    clients.push(nc);
    return nc;
  }
});
