import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { keyFingerprint } from '../security/certificate.js';
import { generateBoxKeyPair, signBoxKey } from './envelope.js';
import { envelopeVersionFor, hostFields, readsBundles, signed, signedHostRecord, verifiedHost } from './records.js';

function record(name = 'HOSTA', { privateKey, publicKey } = generateKeyPairSync('ed25519'), workgroup = 'WORKGROUP') {
  const box = generateBoxKeyPair().publicKey;
  const identity = { name, privateKey, fingerprint: keyFingerprint(publicKey), keyPem: '', certPem: '' };
  return { record: signedHostRecord(identity, workgroup, box, signBoxKey(privateKey, name, box)), privateKey, publicKey };
}

test('host record: this version says, signed, that it reads bundles and version 2 envelopes; a replica believes it', () => {
  const { record: mine } = record();
  const taken = verifiedHost(JSON.parse(JSON.stringify(mine)));
  assert.ok(taken !== null && readsBundles(taken.record));
  assert.equal(taken.record.reads, 'bundle-v1,envelope-v2');
  assert.equal(envelopeVersionFor(taken.record), 2);
});

test("host record: an older version's record (no reads) is taken, as one that reads neither bundles nor version 2 envelopes", () => {
  const { record: mine } = record();
  const { reads: _, readsSig: __, ...older } = mine;
  const taken = verifiedHost(older);
  assert.ok(taken !== null && !readsBundles(taken.record));
  assert.equal(envelopeVersionFor(taken.record), 1);
});

test('host record: a host of the version before envelopes 2 (reads bundles only) is sealed version 1 and sent bundles', () => {
  const keys = generateKeyPairSync('ed25519');
  const { record: mine } = record('HOSTA', keys);
  const readsSig = sign(null, signed('host-reads', [mine.name, mine.fingerprint, mine.sig, 'bundle-v1']), keys.privateKey).toString('base64url');
  const taken = verifiedHost({ ...mine, reads: 'bundle-v1', readsSig });
  assert.ok(taken !== null && readsBundles(taken.record));
  assert.equal(envelopeVersionFor(taken.record), 1);
});

test("host record: the host signature covers the same fields as before `reads`, so an older version, which checks only those, still takes this version's record", () => {
  const { record: mine } = record();
  const key = createPublicKey({ key: Buffer.from(mine.hostKey, 'base64url'), format: 'der', type: 'spki' });
  assert.deepEqual(hostFields(mine), [mine.name, mine.workgroup, mine.hostKey, mine.fingerprint, mine.boxKey, mine.boxSig]);
  assert.ok(verify(null, signed('host', hostFields(mine)), key, Buffer.from(mine.sig, 'base64url')));
});

test("host record: `reads` that its host key did not sign is ignored, not the record (someone else's word on what a host reads)", () => {
  const keys = generateKeyPairSync('ed25519');
  const { record: mine } = record('HOSTA', keys);
  const forged = verifiedHost({ ...mine, reads: 'bundle-v1,more', readsSig: mine.readsSig });
  assert.ok(forged !== null && !readsBundles(forged.record) && forged.record.reads === undefined);
  const { record: other, privateKey } = record();
  const bySomeoneElse = sign(null, signed('host-reads', [mine.name, mine.fingerprint, mine.sig, 'bundle-v1']), privateKey).toString('base64url');
  const taken = verifiedHost({ ...mine, readsSig: bySomeoneElse });
  assert.ok(taken !== null && !readsBundles(taken.record));
  assert.ok(verifiedHost({ ...other, readsSig: 12 }) !== null, 'a readsSig of the wrong type costs only the claim to read bundles');
  // another record of the same host key (in another workgroup, say) does not lend its `reads`
  const { record: again } = record('HOSTA', keys, 'SALES');
  const copied = verifiedHost({ ...again, reads: mine.reads, readsSig: mine.readsSig });
  assert.ok(copied !== null && !readsBundles(copied.record));
});
