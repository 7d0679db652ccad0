/** Receipts travel many to an envelope: every one arrives, in order, and no envelope is over the bound an inbox takes. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { keyFingerprint } from '../security/certificate.js';
import { boxPublicKey, decodeEnvelope, encodeEnvelope, generateBoxKey, open, unseal } from './envelope.js';
import { messageEnvelope, RECEIPTS_ENVELOPE_BYTES, receiptsEnvelopes, type Origin, type ReceiptEvent } from './mail.js';
import type { HostRecord } from './records.js';

test('receipts to one host fill as few envelopes as hold them, each within the bound every inbox takes, in their order', () => {
  const sender = generateKeyPairSync('ed25519');
  const identity = { name: 'SITEB', keyPem: '', certPem: '', privateKey: sender.privateKey, fingerprint: keyFingerprint(sender.publicKey) };
  const box = generateBoxKey();
  const siteA = { name: 'SITEA', boxKey: boxPublicKey(box) } as HostRecord;
  const origin: Origin = { envelopeId: 'x', senderHost: 'SITEA', senderKey: 'SHA256:a', from: 'ALICE', to: 'BOB' };
  // a long `by` (an account name, JSON-escaped) makes each receipt large
  const receipts = Array.from({ length: 600 }, (_, i) => ({
    origin,
    event: { ref: `env-${i}`, state: 'shown', surface: 'tty', by: `u\u0001${'ü'.repeat(100)}`, at: '2026-12-06T05:00:00.000Z' } satisfies ReceiptEvent,
  }));
  const envelopes = receiptsEnvelopes(identity, siteA, receipts);
  assert.ok(envelopes.length > 1 && envelopes.length < 20, `${envelopes.length} envelopes`);
  const refs = envelopes.flatMap((envelope) => {
    const bytes = encodeEnvelope(envelope);
    assert.ok(bytes.byteLength <= RECEIPTS_ENVELOPE_BYTES, `${bytes.byteLength} bytes`);
    assert.deepEqual([envelope.kind, envelope.from, envelope.to, envelope.recipientHost], ['receipt', 'BOB', 'ALICE', 'SITEA']);
    const { text } = open(decodeEnvelope(bytes, { maxBytes: RECEIPTS_ENVELOPE_BYTES }), { host: 'SITEA', box, senderPublicKey: sender.publicKey });
    const parsed = JSON.parse(text) as ReceiptEvent | ReceiptEvent[];
    return (Array.isArray(parsed) ? parsed : [parsed]).map((r) => r.ref);
  });
  assert.deepEqual(refs, receipts.map((r) => r.event.ref));
  const [alone] = receiptsEnvelopes(identity, siteA, receipts.slice(0, 1));
  const { text } = open(alone as NonNullable<typeof alone>, { host: 'SITEA', box, senderPublicKey: sender.publicKey });
  assert.equal((JSON.parse(text) as ReceiptEvent).ref, 'env-0', 'one alone travels as an object, as hosts before batches read it');
});

test('a host seals version 2 envelopes (messages and receipts) only to a host whose record says it reads them, version 1 to any other', () => {
  const sender = generateKeyPairSync('ed25519');
  const identity = { name: 'SITEB', keyPem: '', certPem: '', privateKey: sender.privateKey, fingerprint: keyFingerprint(sender.publicKey) };
  const box = generateBoxKey();
  const current = { name: 'SITEA', boxKey: boxPublicKey(box), reads: 'bundle-v1,envelope-v2' } as HostRecord;
  const origin: Origin = { envelopeId: 'x', senderHost: 'SITEA', senderKey: 'SHA256:a', from: 'ALICE', to: 'BOB' };
  const receipt = { origin, event: { ref: 'env-1', state: 'stored', surface: 'store', by: null, at: '2026-12-07T05:00:00.000Z' } satisfies ReceiptEvent };
  for (const [record, version] of [[current, 2], [{ ...current, reads: 'bundle-v1' }, 1], [{ name: 'SITEA', boxKey: current.boxKey } as HostRecord, 1]] as const) {
    const message = messageEnvelope(identity, { from: 'BOB', to: 'ALICE', text: 'hello' }, record);
    const [receipts] = receiptsEnvelopes(identity, record, [receipt]);
    assert.deepEqual([message.v, receipts?.v], [version, version], record.reads ?? 'no reads');
    assert.equal(unseal(message, { host: 'SITEA', box }).text, 'hello');
    assert.equal(open(receipts as NonNullable<typeof receipts>, { host: 'SITEA', box, senderPublicKey: sender.publicKey }).text.includes('env-1'), true);
  }
});
