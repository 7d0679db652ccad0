/**
 * The organisation hub with the real engine: a 3-node nats-server JetStream cluster on loopback
 * (started and stopped by PID), and netsend daemons whose LAN transports are off, so the hub is
 * the only way between them, as between two sites.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as natsConnect } from '@nats-io/transport-node';
import { isBundle } from '../../src/hub/bundle.js';
import { realmNames } from '../../src/hub/connection.js';
import { connect } from '../../src/lib/client.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { hubHost, startRealm, waitForMessages } from '../helpers/hub.js';
import { natsServerUnavailable, type NatsCluster } from '../helpers/nats.js';

/** Polls the inbox until a message with `text` is there. */
async function waitForMessage(daemon: DaemonProcess, text: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const [found] = await waitForMessages(daemon, (t) => t === text, 1, timeoutMs);
  return found as Record<string, unknown>;
}

async function waitForName(daemon: DaemonProcess, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await daemon.cli(['send', name, '--json', 'probe?'], {})).code !== 0) {
    if (Date.now() > deadline) throw new Error(`${name} never became reachable through the hub`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the organisation hub on a 3-node JetStream cluster', { skip: natsServerUnavailable() ?? false }, () => {
  let cluster: NatsCluster;
  let a: DaemonProcess;
  let b: DaemonProcess;
  let realm: Awaited<ReturnType<typeof startRealm>>;

  before(async () => {
    realm = await startRealm(['HOSTA', 'HOSTB']);
    ({ cluster } = realm);
    [a, b] = realm.daemons as [DaemonProcess, DaemonProcess];
  });
  after(() => realm?.stop([a, b]));

  test('a message to a computer name held at another site goes through the hub, stored there and verified, with its title', async () => {
    const sent = await a.cli(['send', 'HOSTB', '--title', 'Canteen — Grüße', '--priority', 'high', 'lunch at the other site']);
    assert.equal(sent.code, 0, sent.stderr);
    // a hub slow to take it on a loaded machine says so too ('outbox'); the message goes all the same
    assert.match(sent.stdout, /^The message was successfully sent to HOSTB\.\n(The hub delivered it|It waits at the hub|The hub has not taken it yet)/);
    const message = await waitForMessage(b, 'lunch at the other site');
    assert.equal(message.from, 'HOSTA');
    assert.deepEqual([message.title, message.priority], ['Canteen — Grüße', 'high'], 'the title and priority travel, sealed, with the text');
    assert.equal(message.verified, true);
    assert.match(String(message.senderHost), /^HOSTA SHA256:/);
  });

  test('an alias added at one site is reachable from the other; the same alias elsewhere is NERR_DuplicateName', async () => {
    assert.equal((await b.cli(['name', 'CAROL', '/add'])).code, 0);
    await waitForName(a, 'CAROL');
    const sent = await a.cli(['send', 'CAROL', 'for carol, wherever she is']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((await waitForMessage(b, 'for carol, wherever she is')).to, 'CAROL');
    const clash = await a.cli(['name', 'CAROL', '/add']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /NERR_DuplicateName 2297/);
  });

  test("a message the recipient's host refuses (the name's rules) fails the send with that host's status and words", async () => {
    assert.equal((await b.cli(['name', 'DAVE', '/add'])).code, 0);
    assert.equal((await b.cli(['name', 'DAVE', '--allow', 'host:NOBODY'])).code, 0);
    // until HOSTA's replica has the claim, the name is not found there
    const deadline = Date.now() + 15_000;
    let sent = await a.cli(['send', 'DAVE', 'not for dave']);
    while (/NERR_NameNotFound/.test(sent.stderr) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      sent = await a.cli(['send', 'DAVE', 'not for dave']);
    }
    assert.equal(sent.code, 5, 'access denied, as for a direct send');
    assert.equal(sent.stderr, 'Access is denied. (ERROR_ACCESS_DENIED 5)\nDAVE takes messages only from host:NOBODY. (said by HOSTB, through the hub)\n');
    await b.waitFor(() => /hub: refused a message from HOSTA to DAVE/.test(b.stderr), 10_000, 'the refusal logged at the recipient');
    assert.doesNotMatch((await b.cli(['inbox', '--json'])).stdout, /not for dave/);
  });

  test('a burst to one host travels in bundles, signed once each; the one message of it the recipient refuses is refused alone', async () => {
    const watcher = await natsConnect({ servers: cluster.urls });
    const published: Uint8Array[] = [];
    const watching = (async () => {
      for await (const m of watcher.subscribe(realmNames('netsend').message('HOSTB', 'HOSTA'))) published.push(m.data);
    })();
    const client = await connect({ dataDir: a.dataDir });
    try {
      assert.equal((await b.cli(['name', 'ERIN', '/add'])).code, 0);
      assert.equal((await b.cli(['name', 'ERIN', '--allow', 'host:NOBODY'])).code, 0);
      // until HOSTA's replica has the claim, the name is not found there; then it is refused
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && /NERR_NameNotFound/.test(String(await client.send({ to: 'ERIN', text: 'probe' }).catch((error: unknown) => error)))) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // fewer than the recipient's front door lets one host deliver at once (`source message burst`, 20)
      const texts = Array.from({ length: 12 }, (_, i) => `bundled ${i}`);
      // sent at once on one connection: they are committed, and published, together
      const results = await Promise.allSettled([...texts.map((text) => client.send({ to: 'HOSTB', text })), client.send({ to: 'ERIN', text: 'bundled, not for erin' })]);
      const refused = results.at(-1);
      assert.ok(refused?.status === 'rejected' && (refused.reason as { statusName?: string }).statusName === 'ERROR_ACCESS_DENIED', `${JSON.stringify(refused)}\n${b.stderr.slice(-2000)}`);
      assert.deepEqual(results.slice(0, -1).filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason)), []);
      const stored = await waitForMessages(b, (text) => text.startsWith('bundled '), texts.length);
      assert.deepEqual(stored.map((m) => m.text).sort(), [...texts].sort(), 'each stored once');
      assert.ok(stored.every((m) => m.verified === true && m.from === 'HOSTA'));
      assert.ok(published.some(isBundle), `${published.length} messages on the wire, none a bundle`);
      assert.ok(published.length < texts.length + 1, `${published.length} messages on the wire for ${texts.length + 1}`);
    } finally {
      await client.close();
      await watcher.close();
      await watching;
    }
  });

  test('two sites claiming one name at once: one succeeds, the other gets 2297', async () => {
    const [fromA, fromB] = await Promise.all([a.cli(['name', 'RACER', '/add']), b.cli(['name', 'RACER', '/add'])]);
    const codes = [fromA.code, fromB.code].sort();
    assert.deepEqual(codes, [0, 1], `${fromA.stderr}\n${fromB.stderr}`);
    assert.match((fromA.code === 1 ? fromA : fromB).stderr, /NERR_DuplicateName 2297/);
  });

  test('NET SEND * reaches every host of the workgroup in the realm, whatever its site', async () => {
    const sent = await a.cli(['send', '*', 'all hands, every site']);
    assert.equal(sent.code, 0, sent.stderr);
    const atB = await waitForMessage(b, 'all hands, every site');
    assert.equal(atB.to, 'WORKGROUP');
    assert.equal(atB.from, 'HOSTA');
    // the sender's host is part of the workgroup too, as on Windows
    await waitForMessage(a, 'all hands, every site');
  });

  test('send --wait across the hub returns once the recipient acknowledges', async () => {
    const waiting = a.cli(['send', 'HOSTB', 'please ack across sites', '--wait', '--time', '20']);
    const message = await waitForMessage(b, 'please ack across sites');
    const acked = await b.cli(['ack', String(message.id)]);
    assert.equal(acked.code, 0, acked.stderr);
    const result = await waiting;
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /Acknowledged/);
  });

  test('netsend hub status shows the connection, the realm and this host\'s names', async () => {
    const status = JSON.parse((await a.cli(['hub', 'status', '--json'])).stdout) as { state: string; realm: string; claims: string[]; server: string };
    assert.equal(status.state, 'connected');
    assert.equal(status.realm, 'netsend');
    assert.ok(status.claims.includes('HOSTA'), JSON.stringify(status));
    assert.ok(cluster.urls.some((url) => url.endsWith(`:${String(status.server).split(':').at(-1)}`)), status.server);
  });

  test('a host that is away gets its messages when it comes back; the hub never holds the text in clear', async () => {
    const dirB = b.dataDir;
    await b.stop();
    const secret = 'the vault code is 7-Zebra-ÉPÉE';
    const sent = await a.cli(['send', 'HOSTB', secret]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /It waits at the hub \(queued\)|The hub has not taken it yet/);
    // a hub slow to take it (a loaded machine): the stream is searched once it holds it
    let pending = -1;
    for (let i = 0; i < 60 && pending !== 0; i++) {
      pending = (JSON.parse((await a.cli(['hub', 'status', '--json'])).stdout) as { pending: number }).pending;
      if (pending !== 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(pending, 0, 'the hub holds it');
    // every byte the cluster's nodes keep on disk, searched for the text in UTF-8
    const files = await collectFiles(cluster.dir);
    // in every form a text could be kept: UTF-8, UTF-16LE, base64 of either
    const forms = [Buffer.from('7-Zebra'), Buffer.from('7-Zebra', 'utf16le'), Buffer.from(Buffer.from('the vault code').toString('base64').slice(0, 16))];
    for (const file of files) {
      const bytes = await readFile(file);
      for (const form of forms) assert.ok(!bytes.includes(form), `${file} holds the text in clear (${form.toString('hex')})`);
    }
    b = await hubHost('HOSTB', cluster, dirB);
    const message = await waitForMessage(b, secret);
    assert.equal(message.from, 'HOSTA');
  });
});

async function collectFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await collectFiles(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}
