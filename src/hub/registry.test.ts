/**
 * The name registry on an in-memory KV bucket: the first claim wins and keeps its place through
 * heartbeats, forged records are ignored, a lapsed host's names go to others.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import type { KV, KvEntry } from '@nats-io/kv';
import { keyFingerprint } from '../security/certificate.js';
import type { HostIdentity } from '../security/host-identity.js';
import { HOST_LIFETIME_MS } from './connection.js';
import { generateBoxKeyPair, signBoxKey } from './envelope.js';
import { NameRegistry } from './registry.js';
import { MOST_CLAIMS_PER_HOST } from './replica.js';
import { subjectToken } from './subject.js';

/** Enough of a JetStream KV bucket: revisions, create-if-new, delete markers, a watch with its history. */
class FakeKv {
  readonly #entries = new Map<string, KvEntry>();
  readonly #history: KvEntry[] = [];
  /** A watch that never says its history has ended (as a link that stalls mid-replay). */
  stallReplay = false;
  readonly #watchers = new Set<(entry: KvEntry) => void>();
  #revision = 0;

  write(key: string, value: unknown, options: { created?: Date; operation?: KvEntry['operation'] } = {}): number {
    const data = new TextEncoder().encode(JSON.stringify(value));
    const entry = {
      bucket: 'test',
      key,
      value: data,
      created: options.created ?? new Date(),
      revision: ++this.#revision,
      operation: options.operation ?? 'PUT',
      length: data.length,
      rawKey: key,
      delta: 0,
      json: <T>() => JSON.parse(new TextDecoder().decode(data)) as T,
      string: () => new TextDecoder().decode(data),
    } satisfies KvEntry;
    this.#entries.set(key, entry);
    this.#history.push(entry);
    for (const watcher of this.#watchers) watcher(entry);
    return entry.revision;
  }

  /** Every revision written at `key`, oldest first. */
  revisionsOf(key: string): number[] {
    return this.#history.filter((e) => e.key === key).map((e) => e.revision);
  }

  keys(): string[] {
    return [...this.#entries.values()].filter((e) => e.operation === 'PUT').map((e) => e.key);
  }

  asKv(): KV {
    const kv = {
      create: async (key: string, data: Uint8Array) => {
        if (this.#entries.get(key)?.operation === 'PUT') throw new Error('wrong last sequence');
        return this.write(key, JSON.parse(new TextDecoder().decode(data)));
      },
      update: async (key: string, data: Uint8Array, revision: number) => {
        if (this.#entries.get(key)?.revision !== revision) throw new Error('wrong last sequence');
        return this.write(key, JSON.parse(new TextDecoder().decode(data)));
      },
      put: async (key: string, data: Uint8Array) => this.write(key, JSON.parse(new TextDecoder().decode(data))),
      get: async (key: string) => this.#entries.get(key) ?? null,
      delete: async (key: string) => void this.write(key, null, { operation: 'DEL' }),
      status: async () => ({ values: this.#entries.size }),
      watch: async () => {
        // as JetStream replays a bucket: each key's newest entry, in the order of their revisions
        const queue: KvEntry[] = [...this.#entries.values()].sort((x, y) => x.revision - y.revision).map((e, i, all) => ({ ...e, delta: all.length - 1 - i + (this.stallReplay ? 1 : 0) }));
        let wake: () => void = () => {};
        let stopped = false;
        const onEntry = (entry: KvEntry) => {
          queue.push(entry);
          wake();
        };
        this.#watchers.add(onEntry);
        return {
          stop: () => {
            stopped = true;
            this.#watchers.delete(onEntry);
            wake();
          },
          async *[Symbol.asyncIterator]() {
            while (!stopped) {
              const next = queue.shift();
              if (next !== undefined) yield next;
              else await new Promise<void>((resolve) => (wake = resolve));
            }
          },
        };
      },
    };
    return kv as unknown as KV;
  }
}

function identity(name: string): HostIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { name, privateKey, fingerprint: keyFingerprint(publicKey), keyPem: '', certPem: '' };
}

async function registry(kv: FakeKv, host: HostIdentity, aliases: readonly string[] = []): Promise<NameRegistry> {
  const box = generateBoxKeyPair().publicKey;
  const r = new NameRegistry({ kv: kv.asKv(), identity: host, workgroup: 'WORKGROUP', boxKey: box, boxSig: signBoxKey(host.privateKey, host.name, box), log: () => {} });
  for (const alias of aliases) r.keep(alias);
  await r.start();
  return r;
}

/** A claim as a host writes it, signed with its key. */
function claimOf(host: HostIdentity, name: string) {
  return { name, host: host.name, sig: sign(null, Buffer.from(['netsend-claim', name, host.name].join('\0')), host.privateKey).toString('base64url') };
}

/** HOST's record as the bucket would show it had it been written before its lifetime (and the grace) ran out. */
async function lapse(kv: FakeKv, host: string): Promise<void> {
  const entry = await kv.asKv().get(`h.${subjectToken(host)}`);
  kv.write(`h.${subjectToken(host)}`, entry?.json(), { created: new Date(Date.now() - HOST_LIFETIME_MS - 61_000) });
}

const isDuplicate = (error: Error & { statusName?: string }) => error.statusName === 'NERR_DuplicateName';

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('of two hosts claiming one name, the first owns it on both; the second gets NERR_DuplicateName', async () => {
  const kv = new FakeKv();
  const [a, b] = [await registry(kv, identity('HOSTA')), await registry(kv, identity('HOSTB'))];
  await a.claim('CAROL');
  await settle();
  await assert.rejects(b.claim('CAROL'), isDuplicate);
  assert.equal(a.owner('CAROL')?.name, 'HOSTA');
  assert.equal(b.owner('CAROL')?.name, 'HOSTA');
  assert.deepEqual(a.ownNames().sort(), ['CAROL', 'HOSTA']);
  await a.release('CAROL');
  await settle();
  assert.equal(b.owner('CAROL'), null, 'a released name is free');
  await b.claim('CAROL');
  a.stop();
  b.stop();
});

test('hosts claiming one name at the same moment: exactly one owns it, and every replica, a late one too, agrees', async () => {
  const kv = new FakeKv();
  const hosts = await Promise.all(['HOSTA', 'HOSTB', 'HOSTC', 'HOSTD'].map((name) => registry(kv, identity(name))));
  const results = await Promise.allSettled(hosts.map((h) => h.claim('RACE')));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === 'rejected') assert.ok(isDuplicate(r.reason as Error), String(r.reason));
  await settle();
  const late = await registry(kv, identity('LATE'));
  const owners = new Set([...hosts, late].map((h) => h.owner('RACE')?.name));
  assert.equal(owners.size, 1, [...owners].join());
  assert.equal(kv.keys().filter((key) => key.endsWith('.RACE')).length, 1, `the losers withdrew their claims: ${kv.keys().join()}`);
  for (const h of [...hosts, late]) h.stop();
});

test('a claim keeps its place in line through heartbeats: a later claim of the same name, kept there, never takes it', async () => {
  const kv = new FakeKv();
  const hostB = identity('HOSTB');
  const a = await registry(kv, identity('HOSTA'));
  const b = await registry(kv, hostB);
  await a.claim('CAROL');
  // HOSTB writes its own claim anyway, under its own key (all the hub lets it write), and keeps
  // it (it runs no refresh, which would withdraw a claim it does not mean to hold)
  kv.write(`c.HOSTB.CAROL`, claimOf(hostB, 'CAROL'));
  for (let beat = 0; beat < 3; beat++) await a.refresh();
  await settle();
  const late = await registry(kv, identity('LATE'));
  assert.equal(late.owner('CAROL')?.name, 'HOSTA', 'a replica that starts later sees the first claim first');
  assert.equal(b.owner('CAROL')?.name, 'HOSTA');
  for (const r of [a, b, late]) r.stop();
});

test('a claim under a host, signed by another key than its host record, is not believed; a computer name held under another key keeps a host out', async () => {
  const kv = new FakeKv();
  const a = await registry(kv, identity('HOSTA'));
  const mallory = identity('HOSTA');
  kv.write(`c.HOSTA.EVIL`, claimOf(mallory, 'EVIL'));
  // and a record whose key names another host than the one it says
  kv.write(`c.HOSTA.SNEAKY`, { ...claimOf(mallory, 'SNEAKY'), host: 'HOSTB' });
  await settle();
  assert.equal(a.owner('EVIL'), null);
  assert.equal(a.owner('SNEAKY'), null);
  await assert.rejects(registry(kv, identity('HOSTA')), isDuplicate);
  a.stop();
});

test('a host whose record lapsed loses its names and its claims with them; back, it claims behind whoever took them', async () => {
  const kv = new FakeKv();
  const hostA = identity('HOSTA');
  const a = await registry(kv, hostA, ['GHOST']);
  const b = await registry(kv, identity('HOSTB'));
  assert.equal(b.owner('GHOST')?.name, 'HOSTA');
  a.stop();
  await lapse(kv, 'HOSTA');
  await settle();
  assert.equal(b.owner('GHOST'), null, 'no watcher was told, yet the claim is gone with its host');
  assert.equal(b.host('HOSTA'), null);
  await b.claim('GHOST');
  // HOSTA comes back with the same alias: its old claim came first, but it lapsed
  const back = await registry(kv, hostA, ['GHOST']);
  await settle();
  const late = await registry(kv, identity('LATE'));
  for (const r of [back, b, late]) assert.equal(r.owner('GHOST')?.name, 'HOSTB');
  assert.deepEqual([...back.conflicts], ['GHOST']);
  assert.deepEqual(back.ownNames(), ['HOSTA']);
  for (const r of [back, b, late]) r.stop();
});

test('a host that starts without an alias it held withdraws the claim; a heartbeat rewrites the host record alone', async () => {
  const kv = new FakeKv();
  const hostA = identity('HOSTA');
  const a = await registry(kv, hostA, ['OLD', 'KEPT']);
  a.stop();
  const again = await registry(kv, hostA, ['KEPT']);
  await settle();
  assert.deepEqual(again.ownNames().sort(), ['HOSTA', 'KEPT']);
  assert.equal((await kv.asKv().get('c.HOSTA.OLD'))?.operation, 'DEL');
  const kept = (await kv.asKv().get('c.HOSTA.KEPT'))?.revision;
  await again.refresh();
  assert.equal((await kv.asKv().get('c.HOSTA.KEPT'))?.revision, kept, 'the claim was not rewritten');
  again.stop();
});

test('a host back near the end of its lifetime counts itself lapsed before any other host does, and claims anew; well within it, it keeps its claims', async () => {
  const kv = new FakeKv();
  const hostA = identity('HOSTA');
  const revisionOf = async () => (await kv.asKv().get('c.HOSTA.KEPT'))?.revision;
  const aged = async (minutes: number) => {
    const entry = await kv.asKv().get('h.HOSTA');
    kv.write('h.HOSTA', entry?.json(), { created: new Date(Date.now() - minutes * 60_000) });
  };
  (await registry(kv, hostA, ['KEPT'])).stop();
  const first = await revisionOf();
  await aged(10);
  (await registry(kv, hostA, ['KEPT'])).stop();
  assert.equal(await revisionOf(), first, '10 minutes: the claim keeps its place');
  await aged(14);
  const other = await registry(kv, identity('HOSTB'));
  assert.equal(other.owner('KEPT')?.name, 'HOSTA', 'at 14 minutes every other host still counts HOSTA live');
  const back = await registry(kv, hostA, ['KEPT']);
  assert.ok(((await revisionOf()) ?? 0) > (first ?? 0), '14 minutes: withdrawn and claimed again, as after a lapse');
  assert.deepEqual(back.ownNames().sort(), ['HOSTA', 'KEPT']);
  back.stop();
  other.stop();
});

test('a name given back while its claim is being made leaves no claim behind; a heartbeat and a claim of one name make one claim', async () => {
  const kv = new FakeKv();
  const a = await registry(kv, identity('HOSTA'));
  const claiming = a.claim('BRIEF');
  await a.release('BRIEF');
  await claiming;
  await settle();
  assert.equal((await kv.asKv().get('c.HOSTA.BRIEF'))?.operation, 'DEL');
  assert.equal(a.owner('BRIEF'), null);
  await Promise.all([a.claim('TWICE'), a.refresh()]);
  const written = kv.keys().filter((key) => key === 'c.HOSTA.TWICE');
  assert.equal(written.length, 1);
  assert.equal((await kv.asKv().get('c.HOSTA.TWICE'))?.revision, kv.revisionsOf('c.HOSTA.TWICE')[0], 'written once, never again');
  a.stop();
});

test('a host whose machine slept past its lifetime (the wall clock moved, the monotonic one did not) counts itself lapsed at its next heartbeat', async (t) => {
  const kv = new FakeKv();
  const a = await registry(kv, identity('HOSTA'), ['NAPPER']);
  const before = (await kv.asKv().get('c.HOSTA.NAPPER'))?.revision;
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  t.mock.timers.tick(20 * 60_000);
  await a.refresh();
  await settle();
  assert.ok(((await kv.asKv().get('c.HOSTA.NAPPER'))?.revision ?? 0) > (before ?? 0), 'its old claim was withdrawn and made anew');
  assert.deepEqual(a.ownNames().sort(), ['HOSTA', 'NAPPER']);
  a.stop();
});

test('a registry whose history stops coming before its end is not joined on: the start fails, to be tried again', { timeout: 20_000 }, async () => {
  const kv = new FakeKv();
  kv.write('h.SOMEONE', { junk: true });
  kv.stallReplay = true;
  const r = new NameRegistry({ kv: kv.asKv(), identity: identity('HOSTA'), workgroup: 'WORKGROUP', boxKey: 'x', boxSig: 'x', log: () => {} });
  // the registry's waits hold no process open (a daemon has its listeners): this test's does
  const alive = setInterval(() => {}, 1000);
  await assert.rejects(r.start(), (error: Error & { statusName?: string }) => error.statusName === 'NERR_NetworkError' && /before its end/.test(error.message));
  clearInterval(alive);
  r.stop();
  assert.equal(kv.keys().includes('h.HOSTA'), false, 'nothing written');
});

test('a host with more claims in the bucket than a host may have has none of them counted: another host takes its names; under the bound again, its claims count', async () => {
  const kv = new FakeKv();
  const flooder = identity('FLOODER');
  const f = await registry(kv, flooder);
  for (let i = 0; i <= MOST_CLAIMS_PER_HOST; i++) kv.write(`c.FLOODER.${subjectToken(`NAME${i}`)}`, claimOf(flooder, `NAME${i}`));
  const b = await registry(kv, identity('HOSTB'));
  assert.equal(b.owner('NAME1'), null, `${MOST_CLAIMS_PER_HOST + 1} claims: none counts`);
  await b.claim('NAME0');
  assert.equal(b.owner('NAME0')?.name, 'HOSTB');
  kv.write(`c.FLOODER.${subjectToken(`NAME${MOST_CLAIMS_PER_HOST}`)}`, null, { operation: 'DEL' });
  await settle();
  assert.equal(b.owner('NAME1')?.name, 'FLOODER', `${MOST_CLAIMS_PER_HOST} claims, as many as a host may have: they count`);
  const late = await registry(kv, identity('LATE'));
  assert.equal(late.owner('NAME1')?.name, 'FLOODER', 'a replica that starts later agrees');
  for (const r of [f, b, late]) r.stop();
});

test('a host that claims and gives back names again and again keeps its claims counted: a name given back is no longer one of its claims', async () => {
  const kv = new FakeKv();
  const a = await registry(kv, identity('HOSTA'));
  for (let i = 0; i <= MOST_CLAIMS_PER_HOST; i++) {
    await a.claim('CHURN');
    await a.release('CHURN');
  }
  await a.claim('KEPT');
  await settle();
  assert.equal(a.owner('KEPT')?.name, 'HOSTA');
  a.stop();
});
