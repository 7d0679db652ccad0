/** The name registry on an in-memory KV bucket: first claim wins, forged records are ignored, aged-out ones are gone. */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import type { KV, KvEntry } from '@nats-io/kv';
import { keyFingerprint } from '../security/certificate.js';
import type { HostIdentity } from '../security/host-identity.js';
import { CLAIM_LIFETIME_MS } from './connection.js';
import { NameRegistry } from './registry.js';
import { subjectToken } from './subject.js';

/** Enough of a JetStream KV bucket: revisions, create-if-new, delete markers, a watch with its history. */
class FakeKv {
  readonly #entries = new Map<string, KvEntry>();
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
    for (const watcher of this.#watchers) watcher(entry);
    return entry.revision;
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
        const queue: KvEntry[] = [...this.#entries.values()].map((e, i, all) => ({ ...e, delta: all.length - 1 - i }));
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

async function registry(kv: FakeKv, host: HostIdentity, log: string[] = []): Promise<NameRegistry> {
  const r = new NameRegistry({ kv: kv.asKv(), identity: host, workgroup: 'WORKGROUP', boxKey: 'box', boxSig: 'sig', log: (line) => log.push(line) });
  await r.start();
  return r;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('of two hosts claiming one name, the first owns it on both; the second gets NERR_DuplicateName', async () => {
  const kv = new FakeKv();
  const [a, b] = [await registry(kv, identity('HOSTA')), await registry(kv, identity('HOSTB'))];
  await a.claim('CAROL');
  await settle();
  await assert.rejects(b.claim('CAROL'), (error: Error & { statusName?: string }) => error.statusName === 'NERR_DuplicateName');
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

test('a claim signed by another key than its host record is not believed; a computer name held under another key keeps a host out', async () => {
  const kv = new FakeKv();
  const hostA = identity('HOSTA');
  const a = await registry(kv, hostA);
  const mallory = identity('MALLORY');
  // Mallory writes a claim in HOSTA's name, signed with her own key
  const sig = sign(null, Buffer.from(['netsend-claim', 'EVIL', 'HOSTA', 'alias'].join('\0')), mallory.privateKey).toString('base64url');
  kv.write(`n.${subjectToken('EVIL')}`, { name: 'EVIL', host: 'HOSTA', kind: 'alias', sig });
  await settle();
  assert.equal(a.owner('EVIL'), null);
  await assert.rejects(registry(kv, identity('HOSTA')), (error: Error & { statusName?: string }) => error.statusName === 'NERR_DuplicateName');
  a.stop();
});

test('a record not rewritten within its lifetime is gone for the replica, even though no watcher was told', async () => {
  const kv = new FakeKv();
  const a = await registry(kv, identity('HOSTA'));
  const b = await registry(kv, identity('HOSTB'));
  await b.claim('GHOST');
  await settle();
  assert.equal(a.owner('GHOST')?.name, 'HOSTB');
  // what the bucket said of HOSTB's records, as if written before the lifetime (and grace) ran out
  const old = new Date(Date.now() - CLAIM_LIFETIME_MS - 61_000);
  for (const key of [`h.${subjectToken('HOSTB')}`, `n.${subjectToken('GHOST')}`]) {
    const entry = await kv.asKv().get(key);
    kv.write(key, entry?.json(), { created: old });
  }
  await settle();
  assert.equal(a.owner('GHOST'), null);
  assert.equal(a.host('HOSTB'), null);
  a.stop();
  b.stop();
});
