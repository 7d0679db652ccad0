import { createHash, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * A self-signed X.509 v3 certificate for an Ed25519 host key: the shape TLS needs to carry the
 * key, nothing more. Peers trust the key by its fingerprint (pinned), not by this certificate's
 * fields, so a few dozen lines of DER beat a certificate library.
 */
export function selfSignedCertificate(commonName: string, publicKey: KeyObject, privateKey: KeyObject, now = new Date()): string {
  const algorithm = sequence(tlv(0x06, Buffer.from([0x2b, 0x65, 0x70]))); // id-Ed25519 (RFC 8410)
  const name = sequence(tlv(0x31, sequence(tlv(0x06, Buffer.from([0x55, 0x04, 0x03])), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
  const serial = randomBytes(16);
  // DER INTEGERs are minimal and signed: a first byte of 0x40-0x7F is neither padding nor negative
  serial[0] = ((serial[0] as number) & 0x3f) | 0x40;
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version v3
    tlv(0x02, serial),
    algorithm,
    name,
    sequence(generalizedTime(now), generalizedTime(new Date('9999-12-31T23:59:59Z'))), // RFC 5280: no expiry
    name,
    publicKey.export({ format: 'der', type: 'spki' }),
  );
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), sign(null, tbs, privateKey)])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Fingerprints of keys already seen: the hub checks one per envelope, against the same few keys. */
const fingerprints = new WeakMap<KeyObject, string>();

/** `SHA256:…` of the public key (SubjectPublicKeyInfo), as SSH shows host keys: stable across new certificates for the same key. */
export function keyFingerprint(key: KeyObject | X509Certificate): string {
  const publicKey = key instanceof X509Certificate ? key.publicKey : key;
  const known = fingerprints.get(publicKey);
  if (known !== undefined) return known;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const fingerprint = `SHA256:${createHash('sha256').update(spki).digest('base64').replace(/=+$/, '')}`;
  fingerprints.set(publicKey, fingerprint);
  return fingerprint;
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  if (n > 0xffff) throw new RangeError('DER value too long for a host certificate');
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const generalizedTime = (date: Date) => tlv(0x18, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`, 'latin1'));
