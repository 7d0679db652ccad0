import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { envelopeErrorCode, sealingHost, type SealingHost } from '../../test/helpers/envelopes.js';
import { decodeBundle, encodeBundle, isBundle, MAX_BUNDLE_BYTES, MAX_BUNDLE_ITEMS, openBundle } from './bundle.js';
import { decodeEnvelope, open, sealItem, signatureFieldBytes, signEnvelope, unseal, type SealInput } from './envelope.js';
import { parcelsOf, type PublishEntry } from './parcels.js';

type Host = SealingHost;
const A = sealingHost('HOSTA');
const B = sealingHost('HOSTB');
const C = sealingHost('HOSTC');

const input = (text: string, over: Partial<SealInput> = {}): SealInput => ({
  id: randomUUID(), from: 'ALICE', to: 'BOB', recipientHost: 'HOSTB', sentAt: '2026-12-06T10:31:05.123Z', expiresAt: null,
  priority: 'normal', kind: 'message', text, user: 'alice', ...over,
});
/** A message from `sender` sealed to `to`, as the outbox keeps it (JSON, unsigned). */
const kept = (text: string, sender: Host = A, to: Host = B, over: Partial<SealInput> = {}) =>
  JSON.stringify(sealItem(input(text, { recipientHost: to.name, ...over }), { sender, recipientBox: to.boxPublic, version: 2 }));
const bundleOf = (texts: readonly string[], sender: Host = A, to: Host = B) => encodeBundle(texts.map((text) => kept(text, sender, to)), sender, to.name);
/** What B reads from a bundle's bytes, its signature checked against `signer`'s key. */
const readAtB = (bytes: Uint8Array, signer: Host = A) => openBundle(decodeBundle(bytes), signer.publicKey).map((item) => unseal(item, { host: B.name, box: B.box }).text);

const codeOf = envelopeErrorCode;

test('bundle: sealed messages signed together are read back in their order, each opened with the recipient box key', () => {
  const bytes = bundleOf(['first', 'Grüße — 日本語 🎉', 'third']);
  assert.ok(isBundle(bytes));
  assert.ok(!isBundle(Buffer.from('{"v":1}')), 'an envelope on its own is not a bundle');
  assert.deepEqual(readAtB(bytes), ['first', 'Grüße — 日本語 🎉', 'third']);
  const raw = decodeBundle(bytes);
  assert.deepEqual([raw.senderHost, raw.senderKey, raw.recipientHost, raw.items.length], ['HOSTA', A.fingerprint, 'HOSTB', 3]);
});

test('bundle: any changed byte of any message, or another host key, fails the one signature', () => {
  const bytes = Buffer.from(bundleOf(['one', 'two']));
  const last = bytes.length - 3;
  const changed = Buffer.from(bytes);
  changed[last] = changed[last] === 0x41 ? 0x42 : 0x41;
  assert.equal(codeOf(() => readAtB(changed)), 'bad-signature');
  assert.equal(codeOf(() => readAtB(bytes, C)), 'bad-signature', "another host's key");
  // a bundle C signs with its own key but under A's name and key fingerprint
  const forged = encodeBundle([kept('from C', C)], { ...C, name: 'HOSTA', fingerprint: A.fingerprint }, 'HOSTB');
  assert.equal(codeOf(() => readAtB(forged)), 'bad-signature');
});

test("bundle: a message naming another sender or recipient than its bundle is refused, though the bundle's signature holds", () => {
  assert.equal(codeOf(() => readAtB(encodeBundle([kept('fine'), kept('for C', A, C)], A, 'HOSTB'))), 'malformed');
  assert.equal(codeOf(() => readAtB(encodeBundle([kept('fine'), kept('from C', C)], A, 'HOSTB'))), 'malformed');
  // signed for HOSTB, opened by HOSTC: the wrong recipient, as for an envelope
  const item = openBundle(decodeBundle(bundleOf(['x'])), A.publicKey)[0];
  assert.ok(item !== undefined);
  assert.equal(codeOf(() => unseal(item, { host: C.name, box: C.box })), 'wrong-recipient');
});

test('bundle: bounds are checked before anything is trusted: sizes, trailing bytes, the header, the item count, the length', () => {
  const good = Buffer.from(bundleOf(['a', 'b']));
  const newline = good.indexOf(0x0a, 'netsend-hub-bundle-v1\n'.length);
  const header = JSON.parse(good.subarray('netsend-hub-bundle-v1\n'.length, newline).toString()) as Record<string, unknown>;
  const body = good.subarray(newline + 1);
  const withHeader = (h: unknown, rest: Uint8Array = body) => Buffer.concat([Buffer.from('netsend-hub-bundle-v1\n'), Buffer.from(`${JSON.stringify(h)}\n`), rest]);
  assert.equal(codeOf(() => decodeBundle(withHeader(header))), 'none');
  assert.equal(codeOf(() => decodeBundle(Buffer.concat([good, Buffer.from('x')]))), 'malformed', 'bytes after the last message');
  assert.equal(codeOf(() => decodeBundle(good.subarray(0, good.length - 1))), 'malformed', 'a message cut short');
  for (const sizes of [[], [1, body.length - 1], [-1], [0.5], ['7'], Array(MAX_BUNDLE_ITEMS + 1).fill(2), [body.length + 1]]) {
    assert.equal(codeOf(() => decodeBundle(withHeader({ ...header, sizes }))), 'malformed', JSON.stringify(sizes).slice(0, 40));
  }
  assert.equal(codeOf(() => decodeBundle(withHeader({ ...header, extra: 1 }))), 'malformed', 'an unknown header field');
  assert.equal(codeOf(() => decodeBundle(withHeader({ ...header, senderHost: 'H'.repeat(254) }))), 'malformed');
  assert.equal(codeOf(() => decodeBundle(Buffer.concat([Buffer.from('netsend-hub-bundle-v1\n'), Buffer.alloc(20_000, 0x20)]))), 'malformed', 'no end of header within its bound');
  assert.equal(codeOf(() => decodeBundle(Buffer.from('netsend-hub-bundle-v1\nnot json\n'))), 'malformed');
  assert.equal(codeOf(() => decodeBundle(Buffer.concat([Buffer.from('netsend-hub-bundle-v1\n'), Buffer.alloc(MAX_BUNDLE_BYTES)]))), 'too-large');
  assert.throws(() => encodeBundle([], A, 'HOSTB'), RangeError);
});

test('bundle: the signature covers SHA-256 of each message as documented, so another implementation can make one', () => {
  const items = [kept('one'), kept('two')];
  const digests = items.map((item) => createHash('sha256').update(item).digest('base64url'));
  const sig = sign(null, Buffer.from(JSON.stringify(['netsend-hub-bundle-v1', 'HOSTA', A.fingerprint, 'HOSTB', digests])), A.privateKey).toString('base64url');
  const header = { senderHost: 'HOSTA', senderKey: A.fingerprint, recipientHost: 'HOSTB', sizes: items.map((item) => Buffer.byteLength(item)), sig };
  const bytes = Buffer.concat([Buffer.from('netsend-hub-bundle-v1\n'), Buffer.from(`${JSON.stringify(header)}\n`), ...items.map((item) => Buffer.from(item))]);
  assert.deepEqual(readAtB(bytes), ['one', 'two']);
});

test('bundle: hostile bytes (a good bundle mutated) are refused with a HubEnvelopeError or read, never anything else', () => {
  const good = Buffer.from(bundleOf(['one', 'two', 'three']));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (edits, cut) => {
      const bytes = Buffer.from(good.subarray(0, Math.max(cut, good.length - 40)));
      for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
      const code = codeOf(() => readAtB(bytes));
      assert.ok(code !== 'none' || bytes.equals(good), 'only the good bundle is read');
    }),
    { numRuns: 400 },
  );
});

test('signatureFieldBytes: what signing adds to an envelope kept unsigned, for the size check made before it is signed', () => {
  const item = sealItem(input('sized'), { sender: A, recipientBox: B.boxPublic, version: 2 });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  for (const key of [A.privateKey, rsa]) assert.equal(JSON.stringify(signEnvelope(item, key)).length - JSON.stringify(item).length, signatureFieldBytes(key));
});

// ------------------------------------------------------------------ parcels: what the outbox publishes

const entry = (text: string, to: Host = B, over: Partial<SealInput> = {}): PublishEntry => {
  const envelope = kept(text, A, to, over);
  return { subject: `netsend.x.${to.name}.msg.HOSTA`, envelope, envelopeId: (JSON.parse(envelope) as { id: string }).id };
};
const parcels = (entries: readonly PublishEntry[], readers: readonly string[] = ['HOSTB', 'HOSTC'], maxBytes?: number) =>
  parcelsOf(entries, { sender: A, readsBundles: (name) => readers.includes(name), maxBytes });
/** What B reads from a parcel's bytes: a bundle's texts, or one envelope's. */
const textsAtB = (data: Uint8Array) => (isBundle(data) ? readAtB(data) : [open(decodeEnvelope(data), { host: B.name, box: B.box, senderPublicKey: A.publicKey }).text]);

test('parcels: messages to a host that reads bundles go as one, up to the most a bundle holds, in order; the same ones again have the same id', () => {
  const entries = Array.from({ length: MAX_BUNDLE_ITEMS + 6 }, (_, i) => entry(`m${i}`));
  const made = parcels(entries);
  assert.deepEqual(made.map((parcel) => parcel.entries.length), [MAX_BUNDLE_ITEMS, 6]);
  assert.deepEqual(made.flatMap((parcel) => textsAtB(parcel.data)), entries.map((_, i) => `m${i}`));
  assert.deepEqual(made.flatMap((parcel) => parcel.entries), entries.map((_, i) => i));
  assert.match(made[0]?.id ?? '', /^bundle\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(parcels(entries).map((parcel) => parcel.id), made.map((parcel) => parcel.id), 'published again after a lost acknowledgement, the hub drops them by id');
});

test('parcels: one message alone, or to a host of an older version, goes as an envelope signed on its own with its own id', () => {
  const [alone] = parcels([entry('just one')]);
  assert.ok(alone !== undefined && !isBundle(alone.data));
  assert.equal(alone.id, (JSON.parse(Buffer.from(alone.data).toString()) as { id: string }).id);
  assert.deepEqual(textsAtB(alone.data), ['just one']);
  const older = parcels([entry('old 1'), entry('old 2')], []);
  assert.deepEqual(older.map((parcel) => [isBundle(parcel.data), textsAtB(parcel.data)]), [[false, ['old 1']], [false, ['old 2']]]);
});

test('parcels: an entry that carries the envelope as sealed (a send since the daemon started) is published from it, as the bytes read back from the store would be', () => {
  const sealed = ['one', 'two', 'three'].map((text) => sealItem(input(text), { sender: A, recipientBox: B.boxPublic, version: 2 }));
  const fromStore = sealed.map((item) => ({ subject: 'netsend.x.HOSTB.msg.HOSTA', envelope: JSON.stringify(item), envelopeId: item.id }));
  const carried: PublishEntry[] = sealed.map((item, i) => ({ ...(fromStore[i] as PublishEntry), sealed: item }));
  const bytes = (made: readonly { id: string; data: Uint8Array }[]) => made.map((parcel) => [parcel.id, Buffer.from(parcel.data).toString('base64')]);
  // alone (to a host that does not read bundles) and bundled
  for (const readers of [[], ['HOSTB']]) assert.deepEqual(bytes(parcels(carried, readers)), bytes(parcels(fromStore, readers)), `readers ${readers.join()}`);
  // what is published alone comes from the object: a stale JSON beside it would not be what goes
  const [alone] = parcels([{ ...(carried[0] as PublishEntry), envelope: '{}' }], []);
  assert.deepEqual(textsAtB(alone?.data ?? new Uint8Array()), ['one']);
});

test('parcels: outbox rows kept as version 1 before an upgrade still go, bundled with version 2 ones, and open', () => {
  const v1 = sealItem(input('kept before'), { sender: A, recipientBox: B.boxPublic, version: 1 });
  const v2 = sealItem(input('sealed now'), { sender: A, recipientBox: B.boxPublic, version: 2 });
  const made = parcels([v1, v2].map((item) => ({ subject: 'netsend.x.HOSTB.msg.HOSTA', envelope: JSON.stringify(item), envelopeId: item.id })));
  assert.equal(made.length, 1);
  assert.deepEqual(textsAtB(made[0]?.data ?? new Uint8Array()), ['kept before', 'sealed now']);
});

test('parcels: what each host gets keeps its order around a message kept signed before bundles, and a bundle stays under max_payload', () => {
  const signedBefore = entry('kept before');
  const parsed = JSON.parse(signedBefore.envelope) as Record<string, unknown>;
  // a row an older version kept: signed already, published as it is
  const old = { ...signedBefore, envelope: JSON.stringify({ ...parsed, sig: 'c2ln' }) };
  const made = parcels([entry('b1'), entry('c1', C), old, entry('b2'), entry('c2', C)]);
  const toB = made.filter((parcel) => parcel.subject.includes('.HOSTB.'));
  assert.deepEqual(toB.map((parcel) => parcel.entries), [[0], [2], [3]]);
  assert.equal(toB[1]?.data.toString(), old.envelope);
  assert.deepEqual(made.filter((parcel) => parcel.subject.includes('.HOSTC.')).map((parcel) => parcel.entries), [[1, 4]]);
  const big = Array.from({ length: 6 }, (_, i) => entry(`${i}`.repeat(3000)));
  const small = parcels(big, ['HOSTB'], 20_000);
  assert.ok(small.length > 1 && small.every((parcel) => parcel.data.byteLength <= 20_000), small.map((parcel) => parcel.data.byteLength).join());
  assert.deepEqual(small.flatMap((parcel) => parcel.entries), [0, 1, 2, 3, 4, 5]);
});
