/** Receipts owed to senders: sent to a sender's host that is away too, kept while its record is unknown, given up only when it is gone. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import type { MessageEvent } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { keyFingerprint } from '../security/certificate.js';
import { realmNames } from './connection.js';
import { boxPublicKey, generateBoxKey, type Envelope } from './envelope.js';
import type { OwedReceipt } from './outbox.js';
import { SenderReceipts } from './receipts-out.js';
import type { HostRecord } from './records.js';

const siteB = generateKeyPairSync('ed25519');
const identity = { name: 'SITEB', keyPem: '', certPem: '', privateKey: siteB.privateKey, fingerprint: keyFingerprint(siteB.publicKey) };
const siteA = { name: 'SITEA', fingerprint: 'SHA256:x', boxKey: boxPublicKey(generateBoxKey()) } as HostRecord;

function owed(id: number, senderHost: string, senderKey = 'SHA256:x'): OwedReceipt {
  const message = { id, from: 'ALICE', to: 'BOB', text: 't', origin: `env-${id}`, sender: senderOf({ host: { name: senderHost, fingerprint: senderKey } }) } as unknown as StoredMessage;
  const event: MessageEvent = { id: 100 + id, messageId: id, state: 'acknowledged', surface: 'web', by: 'bob', at: Date.now() };
  return { event, message };
}

/** A catch-up over these owed events with this registry; what was published and what was marked told. */
async function catchUp(events: OwedReceipt[], registry: { known(name: string): HostRecord | null; replayed: boolean }) {
  const published: Envelope[] = [];
  const told: number[] = [];
  let left = [...events];
  const receipts = new SenderReceipts({
    identity,
    names: realmNames('acme'),
    registry,
    store: {
      owedReceipts: async (after) => left.filter((o) => o.event.id > after),
      receiptsTold: async (ids) => {
        told.push(...ids);
        left = left.filter((o) => !ids.includes(o.event.id));
      },
    },
    publish: async (_subject, envelope) => void published.push(envelope),
    message: async () => null,
    log: () => {},
  });
  receipts.catchUp();
  for (let i = 0; i < 50 && told.length + published.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 50));
  receipts.stop();
  return { published, told };
}

test("a receipt for a host away past its lifetime is sealed to its last record and sent; it is marked told only then", async () => {
  const { published, told } = await catchUp([owed(1, 'SITEA')], { known: (name) => (name === 'SITEA' ? siteA : null), replayed: true });
  assert.deepEqual(published.map((e) => [e.kind, e.recipientHost]), [['receipt', 'SITEA']]);
  assert.deepEqual(told, [101]);
});

test('a receipt for a host the replica has not read yet stays owed; one for a host gone from the whole registry is given up', async () => {
  const early = await catchUp([owed(1, 'SITEA'), owed(2, 'SITEC')], { known: (name) => (name === 'SITEA' ? siteA : null), replayed: false });
  assert.deepEqual(early.told, [101], 'SITEC is not read yet: its receipt waits, and does not hold SITEA back');
  const gone = await catchUp([owed(2, 'SITEC')], { known: () => null, replayed: true });
  assert.deepEqual([gone.published.length, gone.told], [0, [102]]);
});

test('a receipt is never sealed to another host key that holds the sender\'s name now: it is given up', async () => {
  const remade = { ...siteA, fingerprint: 'SHA256:another' };
  const { published, told } = await catchUp([owed(1, 'SITEA')], { known: () => remade, replayed: true });
  assert.deepEqual([published.length, told], [0, [101]]);
});

test("in one batch to a host, a receipt for a message its earlier key sent is given up and the others still go", async () => {
  const { published, told } = await catchUp([owed(1, 'SITEA', 'SHA256:old'), owed(2, 'SITEA')], { known: () => siteA, replayed: true });
  assert.equal(published.length, 1);
  assert.deepEqual(told.sort(), [101, 102]);
});
