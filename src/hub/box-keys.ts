/**
 * X25519 box keys, and the secrets a host agrees with them for hub envelopes (envelope.ts says
 * how they are used). A sender keeps one ephemeral key per recipient box key for a minute (at
 * most 10,000 envelopes) rather than one per envelope: the key's generation and two agreements
 * were a third of a hub message's CPU. A recipient keeps the secrets it agreed, by ephemeral key.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** How long, and for how many envelopes, a sender seals to one recipient with one ephemeral key. */
export const EPHEMERAL_KEY_MS = 60_000;
const EPHEMERAL_KEY_USES = 10_000;
/** Agreed secrets kept: a sender's, one per recipient box key; a recipient's, one per ephemeral key it met. */
const AGREEMENTS_KEPT = 1024;

/** The secret agreed with a recipient's box key, and the ephemeral public key that agreed it. */
interface Agreement {
  readonly epk: string;
  readonly shared: Buffer;
  readonly madeAt: number;
  uses: number;
}
const sealing = new Map<string, Agreement>();
const opening = new Map<string, Buffer>();

/** Keeps `value` as the newest of at most AGREEMENTS_KEPT entries. */
function keep<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > AGREEMENTS_KEPT) map.delete(map.keys().next().value as string);
  return value;
}

/** This minute's ephemeral key for `recipientBox` and the secret it agreed; a new one when it is older or used up; null when `recipientBox` is not a key. */
export function agreementWith(recipientBox: string): Agreement | null {
  const now = Date.now();
  // the oldest first (kept in the order they were made): those whose minute is over are forgotten
  for (const [box, agreement] of sealing) {
    if (now - agreement.madeAt < EPHEMERAL_KEY_MS && now >= agreement.madeAt) break;
    sealing.delete(box);
  }
  const known = sealing.get(recipientBox);
  if (known !== undefined && now - known.madeAt < EPHEMERAL_KEY_MS && now >= known.madeAt && known.uses < EPHEMERAL_KEY_USES) {
    known.uses++;
    return known;
  }
  const recipient = importBoxKey(recipientBox);
  if (recipient === null) return null;
  const ephemeral = generateBoxKeyPair();
  return keep(sealing, recipientBox, { epk: ephemeral.publicKey, shared: diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), madeAt: now, uses: 1 });
}

/** The secret an envelope's ephemeral key agreed with this host's box key (null: not a key). */
export function agreementFrom(epk: string, box: KeyObject): Buffer | null {
  const key = `${boxPublicKey(box)} ${epk}`;
  const known = opening.get(key);
  if (known !== undefined) return known;
  const ephemeral = importBoxKey(epk);
  return ephemeral === null ? null : keep(opening, key, diffieHellman({ privateKey: box, publicKey: ephemeral }));
}

/**
 * A new X25519 key pair: the private key, and the public key as raw bytes (base64url), exported
 * by the generation itself. Node 20 can deadlock exporting a key to JWK: the export holds a key's
 * lock while it allocates, the allocation may run the GC, and the GC finalizing a finished
 * generation job takes the lock again (seen here: a hub daemon hung mid-burst in ExportJWKEdKey
 * → GC → ~KeyGenJob). So keys are not exported on the hot paths: an ephemeral key's public half
 * comes from its generation, and a host's own box key is exported once (boxPublicKey).
 */
export function generateBoxKeyPair(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' } });
  // @types/node lists no JWK encoding for X25519 pairs; Node returns the JWK object
  return { privateKey, publicKey: (publicKey as unknown as { x: string }).x };
}

/** A new box key (an X25519 private key) in PKCS#8 PEM, written by its generation. */
export const newBoxKeyPem = (): string =>
  generateKeyPairSync('x25519', { privateKeyEncoding: { format: 'pem', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } }).privateKey;

/** A new box key, made from its PEM: no generation job stays behind the key object. */
export const generateBoxKey = (): KeyObject => createPrivateKey(newBoxKeyPem());

/** Box public keys already exported: a host's own is asked for at every open, and exported once. */
const exported = new WeakMap<KeyObject, string>();

/** The raw 32-byte X25519 public key of a box key (private or public), base64url. */
export function boxPublicKey(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'x25519') throw new TypeError('A box key is an X25519 key.');
  let raw = exported.get(key);
  if (raw === undefined) {
    raw = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' }).x as string;
    exported.set(key, raw);
  }
  return raw;
}

/** Canonical base64url (no padding, zero spare bits), of `bytes` bytes when given. */
export function isBase64url(value: unknown, bytes?: number): value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value) || value.length % 4 === 1) return false;
  if (bytes !== undefined && value.length !== Math.ceil((bytes * 4) / 3)) return false;
  return Buffer.from(value, 'base64url').toString('base64url') === value;
}

/** A raw X25519 public key (base64url) as a key object; null when it is not one. */
export const importBoxKey = (raw: string): KeyObject | null =>
  isBase64url(raw, 32) ? createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw }, format: 'jwk' }) : null;
