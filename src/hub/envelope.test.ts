import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createPublicKey, diffieHellman, hkdfSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { envelopeErrorCode, sealingHost, type SealingHost } from '../../test/helpers/envelopes.js';
import {
  MAX_ENVELOPE_BYTES, MAX_TEXT_BYTES, boxPublicKey, decodeEnvelope, encodeEnvelope, open, seal, signBoxKey, unseal, verifyBoxKey,
  type Envelope, type EnvelopeVersion, type HubEnvelopeErrorCode, type SealInput,
} from './envelope.js';
import { EPHEMERAL_KEY_MS } from './box-keys.js';
import { nameFromToken, realmProblem, subjectToken } from './subject.js';

type Host = SealingHost;
const A = sealingHost('HOSTA');
const B = sealingHost('HOSTB');
const C = sealingHost('HOSTC');

const input = (over: Partial<SealInput> = {}): SealInput => ({
  id: randomUUID(), from: 'ALICE', to: 'BOB', recipientHost: 'HOSTB', sentAt: '2026-11-25T10:31:05.123Z', expiresAt: 1_795_000_000_000,
  priority: 'high', kind: 'message', text: 'Lunch at noon?', title: 'Canteen', user: 'alice', ...over,
});
/** Sealed by `sender` to `to` as this version seals to a host of its own version (2), or an older host (1). */
const sealTo = (to: Host, over: Partial<SealInput> = {}, sender: Host = A, version: EnvelopeVersion = 2) => seal(input(over), { sender, recipientBox: to.boxPublic, version });
const sealAB = (over: Partial<SealInput> = {}, sender: Host = A, version: EnvelopeVersion = 2) => sealTo(B, over, sender, version);
const openAt = (envelope: Envelope, opener: Host = B, sender: KeyObject = A.publicKey) => open(envelope, { host: opener.name, box: opener.box, senderPublicKey: sender });
const wire = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

const codeOf = envelopeErrorCode;

// The canonical encoding written out again from its documentation, not with envelope.ts's code.
const headerOf = (e: Envelope) => [e.v, e.id, e.from, e.to, e.senderHost, e.senderKey, e.recipientHost, e.sentAt, e.expiresAt, e.priority, e.kind, e.epk, e.nonce];
const resign = (e: Envelope, key: KeyObject = A.privateKey): Envelope => ({ ...e, sig: sign(null, wire(['netsend-hub-sig-v1', ...headerOf(e), e.ct]), key).toString('base64url') });

test('envelope: seal → bytes → decode → open gives the secret back, for messages and receipts', () => {
  const text = 'Grüße — 日本語 🎉\r\n\u0000 and a lone \ud800';
  const envelope = sealAB({ text });
  const decoded = decodeEnvelope(encodeEnvelope(envelope));
  assert.deepEqual(decoded, envelope);
  assert.deepEqual(openAt(decoded), { text, title: 'Canteen', user: 'alice' });
  assert.equal(envelope.senderHost, 'HOSTA');
  assert.equal(envelope.senderKey, A.fingerprint);
  const { title: _, ...noTitle } = input({ kind: 'receipt', text: '', user: null });
  assert.deepEqual(openAt(seal(noTitle, { sender: A, recipientBox: B.boxPublic, version: 2 })), { text: '', user: null });
  const rsa = sealingHost('SITEHOST', 'rsa');
  assert.deepEqual(openAt(sealAB({}, rsa), B, rsa.publicKey).text, 'Lunch at noon?', 'a site CA host key (RSA) signs too');
});

test('envelope: the construction is the documented one (signature, HKDF salt/info by version, AAD, UTF-16LE secret)', () => {
  for (const version of [2, 1] as const) {
    const e = sealAB({ text: 'hi', title: 'T', user: null }, A, version);
    assert.equal(e.v, version);
    assert.equal(resign(e).sig, e.sig, 'Ed25519 is deterministic: the same bytes were signed');
    const shared = diffieHellman({ privateKey: B.box, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: e.epk }, format: 'jwk' }) });
    const context = createHash('sha256').update(JSON.stringify(['HOSTA', 'HOSTB', e.epk, B.boxPublic])).digest();
    // 2: one key for the ephemeral key's minute (no salt); 1: a key for each envelope (its id the salt)
    const [salt, label] = version === 2 ? ['', 'netsend hub v2\0'] : [e.id, 'netsend hub v1\0'];
    const key = hkdfSync('sha256', shared, salt, Buffer.concat([Buffer.from(label), context]), 32);
    const ct = Buffer.from(e.ct, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(e.nonce, 'base64url'));
    decipher.setAAD(wire(['netsend-hub-aad-v1', ...headerOf(e)]));
    decipher.setAuthTag(ct.subarray(-16));
    const plain = Buffer.concat([decipher.update(ct.subarray(0, -16)), decipher.final()]);
    assert.equal(plain.toString('hex'), `00000004${Buffer.from('hi', 'utf16le').toString('hex')}00000002${Buffer.from('T', 'utf16le').toString('hex')}ffffffff`, `version ${version}`);
  }
});

test('envelope: version 2 keys are per host pair within one ephemeral key: each opens under its own independently derived key', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  // one box key (B's) named by many recipients and sealed to by many senders in one minute: more contexts than one secret keeps keys for
  const sealed = Array.from({ length: 20 }, (_, i) => seal(input({ text: `n${i}`, recipientHost: `HOST${i % 3}` }), { sender: { ...A, name: `SENDER${i}` }, recipientBox: B.boxPublic, version: 2 }));
  assert.equal(new Set(sealed.map((e) => e.epk)).size, 1, 'one ephemeral key for the minute');
  sealed.forEach((e, i) => {
    const shared = diffieHellman({ privateKey: B.box, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: e.epk }, format: 'jwk' }) });
    const context = createHash('sha256').update(JSON.stringify([e.senderHost, e.recipientHost, e.epk, B.boxPublic])).digest();
    const key = hkdfSync('sha256', shared, '', Buffer.concat([Buffer.from('netsend hub v2\0'), context]), 32);
    const ct = Buffer.from(e.ct, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(e.nonce, 'base64url'));
    decipher.setAAD(wire(['netsend-hub-aad-v1', ...headerOf(e)]));
    decipher.setAuthTag(ct.subarray(-16));
    const plain = Buffer.concat([decipher.update(ct.subarray(0, -16)), decipher.final()]);
    assert.equal(plain.subarray(4, 4 + plain.readUInt32BE(0)).toString('utf16le'), `n${i}`);
    // and the host that holds the box key opens each, as whichever host name it was sealed to
    assert.equal(unseal(e, { host: e.recipientHost, box: B.box }).text, `n${i}`);
  });
});

test('sealItem refuses header fields a receiver would refuse, before it uses the ephemeral key', () => {
  const refused: Partial<SealInput>[] = [
    { id: 'has space' }, { id: '' }, { from: 'A'.repeat(16) }, { to: '' }, { recipientHost: 'H'.repeat(254) }, { sentAt: 'yesterday' },
    { sentAt: '2026-13-45T99:00:00Z' }, { expiresAt: 1.5 }, { expiresAt: -1 }, { priority: 'max' as never }, { kind: 'Message' as never },
  ];
  for (const change of refused) assert.equal(codeOf(() => sealAB(change)), 'malformed', JSON.stringify(change));
  assert.equal(codeOf(() => seal(input(), { sender: A, recipientBox: B.boxPublic, version: 3 as never })), 'malformed', 'a version this host does not make');
});

test('envelope: version 1 (what this host seals to an older one) still opens, and a version is bound into what it opens under', () => {
  const old = sealAB({ text: 'from before' }, A, 1);
  assert.equal(openAt(decodeEnvelope(encodeEnvelope(old))).text, 'from before');
  const current = sealAB({ text: 'now' });
  // the version is signed, and in the AAD: relabelled and signed again, it still does not open
  assert.equal(codeOf(() => openAt({ ...current, v: 1 })), 'bad-signature');
  assert.equal(codeOf(() => openAt(resign({ ...current, v: 1 }))), 'undecryptable');
  assert.equal(codeOf(() => openAt(resign({ ...old, v: 2 }))), 'undecryptable');
});

test('envelope: changing any field, the ciphertext or the signature is refused with its code', () => {
  const e = sealAB();
  const other = sealAB();
  // another recipient's: envelopes to one recipient share their minute's ephemeral key
  const otherEpk = sealTo(C).epk;
  const flip = (s: string) => (s[5] === 'A' ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`);
  const changes: { [K in keyof Envelope]: [unknown, HubEnvelopeErrorCode] } = {
    v: [3, 'version'], id: ['another-id', 'bad-signature'], from: ['MALLORY', 'bad-signature'], to: ['CAROL', 'bad-signature'],
    senderHost: ['HOSTM', 'bad-signature'], senderKey: [C.fingerprint, 'bad-signature'], recipientHost: ['HOSTC', 'bad-signature'],
    sentAt: ['2026-11-25T10:31:06.123Z', 'bad-signature'], expiresAt: [null, 'bad-signature'], priority: ['urgent', 'bad-signature'],
    kind: ['receipt', 'bad-signature'], epk: [otherEpk, 'bad-signature'], nonce: [other.nonce, 'bad-signature'],
    ct: [flip(e.ct), 'bad-signature'], sig: [flip(e.sig), 'bad-signature'],
  };
  for (const [field, [value, code]] of Object.entries(changes)) {
    assert.equal(codeOf(() => openAt(decodeEnvelope(wire({ ...e, [field]: value })))), code, field);
  }
  assert.equal(codeOf(() => openAt({ ...e, ct: other.ct })), 'bad-signature', 'another envelope’s ciphertext');
});

test('envelope: a sender seals to one recipient with one ephemeral key a minute; each ciphertext opens only under its own header', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  for (const version of [2, 1] as const) {
    const [first, second] = [sealAB({ text: 'one' }, A, version), sealAB({ text: 'one' }, A, version)];
    assert.equal(second.epk, first.epk);
    assert.notEqual(sealTo(C, {}, A, version).epk, first.epk, 'another recipient, another key');
    assert.notEqual(second.nonce, first.nonce);
    assert.notEqual(second.ct, first.ct, 'the same text under another nonce');
    // the id is in the AAD (in version 1 HKDF's salt too): one envelope's ciphertext under another's header and nonce does not open
    assert.equal(codeOf(() => openAt(resign({ ...second, ct: first.ct }))), 'undecryptable');
    assert.equal(codeOf(() => openAt(resign({ ...second, ct: first.ct, nonce: first.nonce }))), 'undecryptable', 'nor with its own nonce');
    assert.deepEqual([openAt(first).text, openAt(second).text], ['one', 'one']);
    t.mock.timers.tick(EPHEMERAL_KEY_MS);
    const later = sealAB({}, A, version);
    assert.notEqual(later.epk, first.epk, 'a new ephemeral key after a minute');
    assert.equal(openAt(later).text, 'Lunch at noon?');
  }
});

test('envelope: a header signed onto a ciphertext sealed under another header does not decrypt (AAD)', () => {
  const e = sealAB();
  const otherEpk = sealTo(C).epk;
  for (const change of [{ from: 'MALLORY' }, { priority: 'urgent' as const }, { expiresAt: null }, { kind: 'receipt' as const }, { epk: otherEpk }]) {
    assert.equal(codeOf(() => openAt(resign({ ...e, ...change }))), 'undecryptable', JSON.stringify(change));
  }
  assert.equal(codeOf(() => openAt(resign(e))), 'none');
});

test('envelope: only the named recipient host with its box key opens it, and only under the registry’s sender key', () => {
  const e = sealAB();
  assert.equal(codeOf(() => openAt(e, C)), 'wrong-recipient', 'C is not the recipient');
  assert.equal(codeOf(() => openAt(resign({ ...e, recipientHost: 'HOSTC' }), C)), 'undecryptable', 'renamed for C: C lacks the box key');
  assert.equal(codeOf(() => openAt(e, { ...C, name: 'HOSTB' })), 'undecryptable', 'C calling itself B');
  assert.equal(codeOf(() => openAt(sealTo(C))), 'undecryptable', "sealed to C's box key");
  assert.equal(codeOf(() => openAt(e, B, C.publicKey)), 'bad-signature', 'the registry holds another key for HOSTA');
  const forged = sealAB({}, { ...C, name: 'HOSTA', fingerprint: A.fingerprint });
  assert.equal(codeOf(() => openAt(forged)), 'bad-signature', 'C passing for A');
});

test('box keys: the claim binds a box key to one host key and one host name', () => {
  const signature = signBoxKey(A.privateKey, 'HOSTA', A.boxPublic);
  assert.ok(verifyBoxKey(A.publicKey, 'HOSTA', A.boxPublic, signature));
  assert.ok(!verifyBoxKey(B.publicKey, 'HOSTA', A.boxPublic, signature), "B's host key");
  assert.ok(!verifyBoxKey(A.publicKey, 'HOSTB', A.boxPublic, signature), 'another name');
  assert.ok(!verifyBoxKey(A.publicKey, 'HOSTA', B.boxPublic, signature), 'another box key');
  for (const garbage of ['', 'not base64!', 'AAAA', signature.slice(1)]) assert.ok(!verifyBoxKey(A.publicKey, 'HOSTA', A.boxPublic, garbage));
  assert.ok(!verifyBoxKey(A.publicKey, 'HOSTA', `${A.boxPublic}A`, signature), 'a box key of 33 bytes');
  assert.equal(A.boxPublic.length, 43);
  assert.equal(boxPublicKey(createPublicKey(A.box)), A.boxPublic);
  assert.throws(() => boxPublicKey(A.privateKey), TypeError);
});

test('envelope: the sealed bytes hold no plaintext (UTF-8 or UTF-16), title or user', () => {
  const secrets = { text: 'Grüße aus Köln — 日本語のメッセージ 🎉 PAYROLL-4711', title: 'Très confidentiel', user: 'jürgen.ögren' };
  const bytes = Buffer.from(encodeEnvelope(sealAB(secrets)));
  for (const secret of [...Object.values(secrets), 'PAYROLL', 'Köln', '日本語', 'jürgen']) {
    for (const encoding of ['utf8', 'utf16le', 'latin1'] as const) assert.ok(!bytes.includes(Buffer.from(secret, encoding)), `${secret} (${encoding})`);
  }
});

test('envelope: any one character changed in the JSON is refused with a HubEnvelopeError', () => {
  const json = JSON.stringify(sealAB());
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (at, code) => {
      const i = at % json.length;
      fc.pre(json.charCodeAt(i) !== code);
      const bytes = Buffer.from(json.slice(0, i) + String.fromCharCode(code) + json.slice(i + 1), 'utf8');
      return codeOf(() => openAt(decodeEnvelope(bytes))) !== 'none';
    }),
    { numRuns: 500 },
  );
});

test('decodeEnvelope: size, JSON, types, lengths, base64url and version are checked before anything else', () => {
  const e = sealAB();
  const bytes = encodeEnvelope(e);
  const decode = (value: unknown) => codeOf(() => decodeEnvelope(typeof value === 'string' ? Buffer.from(value) : value instanceof Uint8Array ? value : wire(value)));
  assert.equal(decode(new Uint8Array(MAX_ENVELOPE_BYTES + 1)), 'too-large');
  assert.equal(codeOf(() => decodeEnvelope(bytes, { maxBytes: bytes.length - 1 })), 'too-large');
  assert.equal(codeOf(() => decodeEnvelope(bytes, { maxBytes: bytes.length })), 'none');
  for (const cut of [0, 1, 10, bytes.length >> 1, bytes.length - 1]) assert.equal(decode(bytes.subarray(0, cut)), 'malformed', `cut at ${cut}`);
  for (const text of ['null', '[]', '42', '"x"', 'true', '{"__proto__":{"v":1}}']) assert.equal(decode(text), 'malformed', text);
  assert.equal(decode(new Uint8Array([0x7b, 0xff, 0x7d])), 'malformed', 'not UTF-8');
  for (const field of Object.keys(e)) {
    const { [field]: _, ...without } = e as unknown as Record<string, unknown>;
    assert.equal(decode(without), 'malformed', `no ${field}`);
    for (const value of [true, [], {}, 1.5, '', -1, 'x '.repeat(1500)]) {
      const expected = field === 'v' && value === -1 ? 'version' : 'malformed';
      assert.equal(decode({ ...e, [field]: value }), expected, `${field}: ${JSON.stringify(value).slice(0, 10)}`);
    }
  }
  const bad: [keyof Envelope, unknown][] = [
    ['v', '1'], ['v', 0], ['from', 'A'.repeat(16)], ['senderHost', 'H'.repeat(254)], ['senderKey', 'SHA256:short'], ['sentAt', 'yesterday'],
    ['sentAt', '2026-13-45T99:00:00Z'], ['expiresAt', 2 ** 53], ['priority', 'max'], ['kind', 'Message'], ['id', 'has space'], ['epk', `${e.epk.slice(0, 42)}=`],
    ['epk', `${e.epk.slice(0, 42)}B`], ['epk', e.epk.replace(/[A-Za-z]/, '+')], ['nonce', e.nonce.slice(1)], ['ct', 'AAAA'], ['sig', 'A'.repeat(2052)],
  ];
  for (const [field, value] of bad) assert.notEqual(decode({ ...e, [field]: value }), 'none', `${field}: ${String(value).slice(0, 20)}`);
  assert.equal(decode({ ...e, v: 0 }), 'version');
  assert.equal(decode({ ...e, v: 3 }), 'version', 'a version after this one');
  assert.equal(decode({ ...e, note: 'x'.repeat(1_000_000) }), 'malformed', 'an extra (unsigned) field');
});

test('envelope: the largest message, with every header field at its worst, fits MAX_ENVELOPE_BYTES', () => {
  const worst = '\u0001'; // JSON writes it as six bytes
  const sender = { ...A, name: worst.repeat(253) };
  const fields = { id: 'i'.repeat(128), from: worst.repeat(15), to: worst.repeat(15), recipientHost: worst.repeat(253), expiresAt: Number.MAX_SAFE_INTEGER, title: 't'.repeat(256), user: 'u'.repeat(256) };
  const text = '\u0001'.repeat(MAX_TEXT_BYTES / 2);
  const bytes = encodeEnvelope(seal(input({ ...fields, text }), { sender, recipientBox: B.boxPublic, version: 2 }));
  assert.ok(bytes.length <= MAX_ENVELOPE_BYTES, `${bytes.length} > ${MAX_ENVELOPE_BYTES}`);
  assert.ok(bytes.length > MAX_ENVELOPE_BYTES - 4096, 'and the bound is not loose by more than the signature allowance');
  assert.equal(openAt(decodeEnvelope(bytes), { ...B, name: fields.recipientHost }).text.length, text.length);
  assert.equal(codeOf(() => sealAB({ text: `${text}x` })), 'too-large');
  assert.equal(codeOf(() => sealAB({ user: 'u'.repeat(257) })), 'malformed');
  assert.equal(codeOf(() => sealAB({ from: 'A'.repeat(16) })), 'malformed', 'seal refuses what receivers would');
  assert.equal(codeOf(() => seal(input(), { sender: A, recipientBox: 'short', version: 2 })), 'malformed');
});

test('subjectToken: examples, and tokens subjectToken never makes map back to nothing', () => {
  const examples: [string, string][] = [['HOSTA', 'HOSTA'], ['A B', 'A_20B'], ['SALES.*', 'SALES_2E_2A'], ['>', '_3E'], ['É', '_C3_89'], ['_X-1', '_5FX-1'], ['$SYS', '_24SYS'], ['🎉', '_F0_9F_8E_89']];
  for (const [name, token] of examples) {
    assert.equal(subjectToken(name), token);
    assert.equal(nameFromToken(token), name);
  }
  for (const token of ['', '_', '_4', '_41', '_c3_89', '_C3', '_FF', '_C0_80', '_ED_A0_80', 'A.B', 'A*', 'É', 'A B']) assert.equal(nameFromToken(token), null, token);
  assert.throws(() => subjectToken(''), RangeError);
  assert.throws(() => subjectToken('A\ud800'), RangeError);
});

test('subjectToken: safe, injective and reversible over any name of up to 15 characters (fast-check)', () => {
  const tricky = fc.constantFrom(...'AaÉé*>. _-$0x\u0000\u00ff');
  const name = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 15 }),
    fc.string({ unit: tricky, minLength: 1, maxLength: 15 }),
    fc.array(fc.integer({ min: 0, max: 0xff }), { minLength: 1, maxLength: 15 }).map((codes) => String.fromCharCode(...codes)),
  );
  fc.assert(
    fc.property(name, name, (a, b) => {
      const [ta, tb] = [subjectToken(a), subjectToken(b)];
      return /^[A-Za-z0-9_-]+$/.test(ta) && nameFromToken(ta) === a && (a === b) === (ta === tb);
    }),
    { numRuns: 2000 },
  );
});

test('subjectToken: every character of the OEM code pages gets its own token', () => {
  for (const codePage of ['cp437', 'cp850', 'cp866', 'cp1252']) {
    const names = new Set(Array.from({ length: 256 }, (_, byte) => iconv.decode(Buffer.from([byte]), codePage).toUpperCase()));
    const tokens = new Set([...names].map((n) => subjectToken(n)));
    assert.equal(tokens.size, names.size, codePage);
    for (const n of names) assert.equal(nameFromToken(subjectToken(n)), n);
  }
});

test('realmProblem: the hub realm must be one safe subject token', () => {
  for (const realm of ['netsend', 'Acme-Corp_2', 'x'.repeat(32)]) assert.equal(realmProblem(realm), null, realm);
  for (const realm of ['', 'a.b', 'a*', 'a>', 'a b', 'Köln', '$SYS.x', 'x'.repeat(33)]) assert.notEqual(realmProblem(realm), null, realm);
});

test('envelope: a relayed message (the hub gateway\'s, from the legacy wire) seals, decodes and opens as a message does; its kind is signed', () => {
  const relayed = sealAB({ kind: 'relayed', user: null });
  const decoded = decodeEnvelope(encodeEnvelope(relayed));
  assert.equal(decoded.kind, 'relayed');
  assert.equal(openAt(decoded).text, 'Lunch at noon?');
  assert.equal(codeOf(() => openAt({ ...relayed, kind: 'message' })), 'bad-signature', 'a relayed message cannot pass for a verified one');
});
