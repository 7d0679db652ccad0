/**
 * The hub's message envelope. JetStream stores and routes it, so it sees the header (ids, names,
 * hosts, times) and nothing else: the text, title and user are encrypted to the recipient host's
 * X25519 box key, and the sending host's key signs the whole envelope end to end (alone, or in a
 * bundle of them: bundle.ts).
 *
 * Encryption: an ephemeral X25519 key agrees a secret with the recipient's box key, and HKDF-SHA256
 * makes an AES-256-GCM key of it, whose AAD is the canonical header and whose nonce is 12 random
 * bytes. A sender keeps one ephemeral key per recipient for a minute (at most 10,000 envelopes),
 * not one per envelope: the agreement and the key's generation were a third of a hub message's
 * CPU. The key, by the envelope's version `v`:
 *  - 2: HKDF (no salt; info: "netsend hub v2", a NUL, and SHA-256 of the JSON [senderHost,
 *    recipientHost, epk, recipient box key]), one key for everything one ephemeral key seals to one
 *    host, derived once at each end: the derivation per envelope was a tenth of both hosts' CPU.
 *    Random 96-bit nonces under one key for at most 10,000 envelopes repeat with a chance below
 *    2^-70; the header in the AAD (its id, its version) still ties each ciphertext to its envelope.
 *  - 1: the same with salt the id and "netsend hub v1": a key per envelope. Sealed to a host whose
 *    registry record does not say it reads v2 (records.ts), and read from any.
 * The ephemeral key is never written anywhere; its agreed secret and version 2 key, which open
 * what was sealed under them, stay in the sender's memory until its minute is over (swept at the
 * next seal, then collected), never on its disk. A recipient keeps the secrets (and keys) of the
 * last 1,024 ephemeral keys it met, in memory only.
 *
 * Canonical encoding: the UTF-8 of JSON.stringify of a fixed-order array, [label, v, id, from, to,
 * senderHost, senderKey, recipientHost, sentAt, expiresAt, priority, kind, epk, nonce] for the
 * AAD, with ct appended for the signature. JSON quotes and escapes every string and writes safe
 * integers and null one way only, so no two headers give the same bytes; the labels
 * ('netsend-hub-aad-v1', 'netsend-hub-sig-v1', 'netsend-hub-box-key-v1') keep one use's bytes
 * from being replayed as another's.
 *
 * The secret inside ct: text, title, user in that order, each a 32-bit big-endian byte length
 * (0xFFFFFFFF: absent) and UTF-16LE, the unit `max message size` counts, so the bound is exact.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { MAX_TITLE_CHARACTERS, isPriority, type Priority } from '../messenger/message.js';
import { keyFingerprint } from '../security/certificate.js';
import type { HostIdentity } from '../security/host-identity.js';
import { agreementFrom, agreementWith, boxPublicKey, isBase64url } from './box-keys.js';

export { boxPublicKey, generateBoxKey, generateBoxKeyPair, newBoxKeyPem } from './box-keys.js';

export type HubEnvelopeErrorCode = 'too-large' | 'malformed' | 'bad-signature' | 'wrong-recipient' | 'undecryptable' | 'version';

/** An envelope refused, whatever was wrong with it: callers and tests match on `code`. */
export class HubEnvelopeError extends Error {
  override readonly name = 'HubEnvelopeError';
  readonly code: HubEnvelopeErrorCode;
  constructor(code: HubEnvelopeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The envelope versions this host reads (the key each is sealed under: above); it seals 2 to a host whose record says it reads it (records.ts). */
export const ENVELOPE_VERSIONS = [1, 2] as const;
export type EnvelopeVersion = (typeof ENVELOPE_VERSIONS)[number];
/** A message, a receipt back to its sender, or a message the hub gateway relayed from the legacy wire. */
export const ENVELOPE_KINDS = ['message', 'receipt', 'relayed'] as const;
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

export interface Envelope {
  readonly v: EnvelopeVersion;
  /** Unique per message (a UUID): in the AAD (in version 1 the HKDF salt too), and JetStream's Nats-Msg-Id when it goes alone. */
  readonly id: string;
  /** Sender and recipient NetBIOS names. */
  readonly from: string;
  readonly to: string;
  readonly senderHost: string;
  /** keyFingerprint of the sending host's key ("SHA256:…"). */
  readonly senderKey: string;
  readonly recipientHost: string;
  readonly sentAt: string; // ISO time (Date#toISOString)
  /** When it stops waiting for its recipient (ms since the epoch); the receiver enforces it. */
  readonly expiresAt: number | null;
  readonly priority: Priority;
  readonly kind: EnvelopeKind;
  /** Ephemeral X25519 public key, nonce, ciphertext+tag, signature: base64url. */
  readonly epk: string;
  readonly nonce: string;
  readonly ct: string;
  readonly sig: string;
}

/** What only the recipient host reads. */
export interface EnvelopeSecret {
  readonly text: string;
  readonly title?: string;
  /** The sending user (account or login name); null if none. */
  readonly user: string | null;
}

/** The header fields the caller gives; seal adds the sender's, the key, nonce, ct and sig. */
export interface SealInput extends EnvelopeSecret, Pick<Envelope, 'id' | 'from' | 'to' | 'recipientHost' | 'sentAt' | 'expiresAt' | 'priority' | 'kind'> {}

export interface SealKeys {
  /** The sending host: its name, host key and that key's fingerprint. */
  readonly sender: Pick<HostIdentity, 'name' | 'privateKey' | 'fingerprint'>;
  /** The recipient host's box public key, from a registry claim verifyBoxKey accepted. */
  readonly recipientBox: string;
  /** The version the recipient host reads (records.ts, envelopeVersionFor). */
  readonly version: EnvelopeVersion;
}

export interface OpenKeys {
  /** This host's name, compared exactly with recipientHost. */
  readonly host: string;
  /** This host's box private key. */
  readonly box: KeyObject;
  /** The host key the registry holds for envelope.senderHost (the caller looks it up). */
  readonly senderPublicKey: KeyObject;
}

/** Bounds of the header's fields (UTF-16 units) and of the secret's title and user. */
export const FIELD_LIMITS = { id: 128, name: 15, host: 253, title: MAX_TITLE_CHARACTERS, user: 256, sig: 2048 } as const;
/** Longest text: the ceiling of `max message size`, 1 MiB of UTF-16 (512 Ki units). */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** GCM tag and nonce sizes; the secret's length word for an absent title or user. */
const [TAG_BYTES, NONCE_BYTES, ABSENT] = [16, 12, 0xffffffff];

/**
 * The JSON header around ct at worst: names and hosts where JSON writes a unit as six bytes
 * (`\u0001`), the id (ASCII, no escapes) and signature (2,048 allows RSA-8192), and 1 KiB for the
 * fixed-size fields (key, nonce, time, numbers, priority, kind), the keys and the punctuation.
 */
const HEADER_BYTES = 6 * (2 * FIELD_LIMITS.name + 2 * FIELD_LIMITS.host) + FIELD_LIMITS.id + FIELD_LIMITS.sig + 1024;

/**
 * The largest envelope for texts up to `maxTextBytes` of UTF-16: the secret (three 4-byte
 * lengths, the text, title and user as UTF-16LE) and the GCM tag, in base64url (4 chars per 3
 * bytes), plus HEADER_BYTES.
 */
export const envelopeBytesFor = (maxTextBytes: number): number =>
  Math.ceil(((12 + maxTextBytes + 2 * (FIELD_LIMITS.title + FIELD_LIMITS.user) + TAG_BYTES) * 4) / 3) + HEADER_BYTES;

/** The largest envelope any message can make: 1,405,920 bytes (1.34 MiB; over NATS's default max_payload of 1 MiB). */
export const MAX_ENVELOPE_BYTES = envelopeBytesFor(MAX_TEXT_BYTES);

/** decodeEnvelope's bound: MAX_ENVELOPE_BYTES, or envelopeBytesFor(this host's max message size). */
export type EnvelopeLimits = { readonly maxBytes: number };

const boxKeyBytes = (hostName: string, boxPublic: string) => Buffer.from(JSON.stringify(['netsend-hub-box-key-v1', hostName, boxPublic]), 'utf8');

/** The host key's signature binding a box key to the host name it is published under (base64url). */
export const signBoxKey = (hostPrivateKey: KeyObject, hostName: string, boxPublic: string): string =>
  signBytes(hostPrivateKey, boxKeyBytes(hostName, boxPublic));

/** Whether `signature` is the host key's binding of `boxPublic` to `hostName`; false for any garbage. */
export const verifyBoxKey = (hostPublicKey: KeyObject, hostName: string, boxPublic: string, signature: string): boolean =>
  isBase64url(boxPublic, 32) && verifyBytes(hostPublicKey, boxKeyBytes(hostName, boxPublic), signature);

const signatureLengths = new WeakMap<KeyObject, number>();

/** What the host key's signature adds to an envelope's JSON: `,"sig":"…"` (measured once a key; an ECDSA signature is up to 3 bytes longer than another). */
export function signatureFieldBytes(hostPrivateKey: KeyObject): number {
  let bytes = signatureLengths.get(hostPrivateKey);
  if (bytes === undefined) {
    bytes = ',"sig":""'.length + signBytes(hostPrivateKey, Buffer.alloc(0)).length + (hostPrivateKey.asymmetricKeyType === 'ec' ? 4 : 0);
    signatureLengths.set(hostPrivateKey, bytes);
  }
  return bytes;
}

/** An envelope sealed and not signed yet: what the outbox keeps, and what a bundle carries (bundle.ts), signed as a whole. */
export type SealedItem = Omit<Envelope, 'sig'>;

/** Encrypts `input`'s secret to the recipient's box key and signs everything with the host key. */
export const seal = (input: SealInput, keys: SealKeys): Envelope => signEnvelope(sealItem(input, keys), keys.sender.privateKey);

/** Encrypts `input`'s secret to the recipient's box key, leaving the signature to signEnvelope or a bundle. */
export function sealItem(input: SealInput, keys: Pick<SealKeys, 'recipientBox' | 'version'> & { readonly sender: Pick<SealKeys['sender'], 'name' | 'fingerprint'> }): SealedItem {
  const { id, from, to, recipientHost, sentAt, expiresAt, priority, kind } = input;
  // The caller's fields checked first, as a receiver will check them: what seal makes, decodeEnvelope and decodeItem accept.
  checkHeader({ v: keys.version, id, from, to, senderHost: keys.sender.name, senderKey: keys.sender.fingerprint, recipientHost, sentAt, expiresAt, priority, kind });
  const agreement = agreementWith(keys.recipientBox);
  if (agreement === null) throw new HubEnvelopeError('malformed', "The recipient's box key is not a base64url X25519 key.");
  const nonce = randomBytes(NONCE_BYTES);
  const header: Header = { v: keys.version, id, from, to, senderHost: keys.sender.name, senderKey: keys.sender.fingerprint, recipientHost, sentAt, expiresAt, priority, kind, epk: agreement.epk, nonce: nonce.toString('base64url') };
  const plain = encodeSecret(input);
  const cipher = createCipheriv('aes-256-gcm', messageKey(agreement.shared, header, keys.recipientBox), nonce);
  cipher.setAAD(canonical('netsend-hub-aad-v1', header));
  // epk, nonce and ct are base64url of the right sizes by their making
  return { ...header, ct: Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url') };
}

/** The envelope with the host key's signature over all of it (`item` is checked already: sealItem's, or parseStored's). */
export function signEnvelope(item: SealedItem, hostPrivateKey: KeyObject): Envelope {
  return { ...item, sig: signBytes(hostPrivateKey, canonical('netsend-hub-sig-v1', item, item.ct)) };
}

/**
 * The secret of an envelope for this host: the signature is checked against the sender's host
 * key first (and senderKey against that key), then recipientHost, then the ciphertext.
 * @throws HubEnvelopeError
 */
export function open(envelope: Envelope, keys: OpenKeys): EnvelopeSecret {
  const e = checkEnvelope(envelope);
  checkSenderKey(e, keys.senderPublicKey);
  if (!verifyBytes(keys.senderPublicKey, canonical('netsend-hub-sig-v1', e, e.ct), e.sig)) throw new HubEnvelopeError('bad-signature', `The envelope's signature does not match the host key of ${JSON.stringify(e.senderHost)}.`);
  return unseal(e, keys);
}

/**
 * The secret of an item whose signature the caller has checked (a bundle's, bundle.ts):
 * recipientHost is checked, then the ciphertext.
 * @throws HubEnvelopeError
 */
export function unseal(e: SealedItem, keys: Omit<OpenKeys, 'senderPublicKey'>): EnvelopeSecret {
  if (e.recipientHost !== keys.host) throw new HubEnvelopeError('wrong-recipient', `The envelope is for host ${JSON.stringify(e.recipientHost)}, not ${JSON.stringify(keys.host)}.`);
  let plain: Buffer;
  try {
    const shared = agreementFrom(e.epk, keys.box);
    if (shared === null) throw new Error('bad epk');
    const key = messageKey(shared, e, boxPublicKey(keys.box));
    const ct = Buffer.from(e.ct, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(e.nonce, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(canonical('netsend-hub-aad-v1', e));
    decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(ct.subarray(0, ct.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new HubEnvelopeError('undecryptable', "The envelope does not decrypt with this host's box key.");
  }
  return decodeSecret(plain);
}

/**
 * Whether the envelope names the key the registry holds for its sender host.
 * @throws HubEnvelopeError 'bad-signature' when it does not
 */
export function checkSenderKey(e: Pick<Envelope, 'senderKey' | 'senderHost'>, senderPublicKey: KeyObject): void {
  // Names in these messages are JSON-quoted: they come off the wire, and may end up in logs.
  if (e.senderKey !== keyFingerprint(senderPublicKey)) throw new HubEnvelopeError('bad-signature', `The envelope names key ${e.senderKey}, not the registry's key for ${JSON.stringify(e.senderHost)}.`);
}

/** Strict UTF-8: bytes that are not are refused, not replaced. */
export const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An envelope from bytes off the wire, every field checked; the signature is open's to check.
 * @throws HubEnvelopeError ('too-large', 'malformed', 'version'), never anything else
 */
export const decodeEnvelope = (bytes: Uint8Array, limits: EnvelopeLimits = { maxBytes: MAX_ENVELOPE_BYTES }): Envelope => checkEnvelope(parseJson(bytes, limits));

/**
 * A bundle's item from its bytes, every field checked (it carries no signature of its own).
 * @throws HubEnvelopeError ('too-large', 'malformed', 'version'), never anything else
 */
export const decodeItem = (bytes: Uint8Array, limits: EnvelopeLimits = { maxBytes: MAX_ENVELOPE_BYTES }): SealedItem => checkItem(parseJson(bytes, limits));

/**
 * An envelope as the outbox keeps it (JSON): sealed, and signed if it was kept before bundles.
 * @throws HubEnvelopeError ('malformed', 'version')
 */
export function parseStored(json: string): SealedItem | Envelope {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new HubEnvelopeError('malformed', 'The envelope is not JSON.');
  }
  return typeof value === 'object' && value !== null && 'sig' in value ? checkEnvelope(value) : checkItem(value);
}

function parseJson(bytes: Uint8Array, limits: EnvelopeLimits): unknown {
  if (bytes.byteLength > limits.maxBytes) throw new HubEnvelopeError('too-large', `The envelope is ${bytes.byteLength} bytes, over the limit of ${limits.maxBytes}.`);
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new HubEnvelopeError('malformed', 'The envelope is not JSON in UTF-8.');
  }
}

/** The bytes to publish. */
export const encodeEnvelope = (envelope: Envelope): Uint8Array => Buffer.from(JSON.stringify(envelope), 'utf8');

const ITEM_KEYS: readonly string[] = ['v', 'id', 'from', 'to', 'senderHost', 'senderKey', 'recipientHost', 'sentAt', 'expiresAt', 'priority', 'kind', 'epk', 'nonce', 'ct'];
const KEYS: readonly string[] = [...ITEM_KEYS, 'sig'];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
/** A string of 1 to `max` UTF-16 units. */
export const bounded = (value: unknown, max: number): value is string => typeof value === 'string' && value.length >= 1 && value.length <= max;
const malformed = (what: string) => new HubEnvelopeError('malformed', `The envelope's ${what} is missing or not valid.`);

/** A fresh Envelope with exactly the known fields, each of the right type, length and form. */
function checkEnvelope(value: unknown): Envelope {
  const item = checkFields(value, KEYS);
  const { sig } = value as { sig?: unknown };
  if (!isBase64url(sig) || sig.length === 0 || sig.length > FIELD_LIMITS.sig) throw malformed('signature');
  return { ...item, sig };
}

/** A fresh SealedItem with exactly the known fields (no signature), each of the right type, length and form. */
const checkItem = (value: unknown): SealedItem => checkFields(value, ITEM_KEYS);

function checkFields(value: unknown, keys: readonly string[]): SealedItem {
  const bad = malformed;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('body');
  const o = value as Record<string, unknown>;
  if (Number.isSafeInteger(o.v) && !isVersion(o.v)) throw new HubEnvelopeError('version', `Envelope version ${String(o.v)} is not one this host reads (${ENVELOPE_VERSIONS.join(', ')}).`);
  const unknown = Object.keys(o).find((key) => !keys.includes(key));
  // Unknown fields are refused: they would travel unsigned.
  if (unknown !== undefined) throw bad(`field ${JSON.stringify(unknown.slice(0, 32))}`);
  const header = checkHeader(o);
  if (!isBase64url(o.epk, 32)) throw bad('epk');
  if (!isBase64url(o.nonce, NONCE_BYTES)) throw bad('nonce');
  if (!isBase64url(o.ct) || Math.floor((o.ct.length * 3) / 4) < TAG_BYTES) throw bad('ciphertext');
  return { ...header, epk: o.epk, nonce: o.nonce, ct: o.ct };
}

const isVersion = (v: unknown): v is EnvelopeVersion => ENVELOPE_VERSIONS.includes(v as EnvelopeVersion);

/** The header's fields but the key and nonce, each of the right type, length and form, as a fresh object. */
function checkHeader(o: Record<string, unknown>): Omit<Header, 'epk' | 'nonce'> {
  const bad = malformed;
  if (!isVersion(o.v)) throw bad('version');
  if (typeof o.id !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(o.id)) throw bad('id');
  if (!bounded(o.from, FIELD_LIMITS.name)) throw bad('from name');
  if (!bounded(o.to, FIELD_LIMITS.name)) throw bad('to name');
  if (!bounded(o.senderHost, FIELD_LIMITS.host)) throw bad('sender host');
  if (typeof o.senderKey !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(o.senderKey)) throw bad('sender key');
  if (!bounded(o.recipientHost, FIELD_LIMITS.host)) throw bad('recipient host');
  if (typeof o.sentAt !== 'string' || !ISO_TIME.test(o.sentAt) || Number.isNaN(Date.parse(o.sentAt))) throw bad('sentAt');
  const { expiresAt } = o;
  if (expiresAt !== null && (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0)) throw bad('expiresAt');
  if (!isPriority(o.priority)) throw bad('priority');
  if (!ENVELOPE_KINDS.includes(o.kind as EnvelopeKind)) throw bad('kind');
  return { v: o.v, id: o.id, from: o.from, to: o.to, senderHost: o.senderHost, senderKey: o.senderKey, recipientHost: o.recipientHost, sentAt: o.sentAt, expiresAt, priority: o.priority, kind: o.kind as EnvelopeKind };
}

type Header = Omit<SealedItem, 'ct'>;
const canonical = (label: string, h: Header, ...rest: string[]): Buffer =>
  Buffer.from(JSON.stringify([label, h.v, h.id, h.from, h.to, h.senderHost, h.senderKey, h.recipientHost, h.sentAt, h.expiresAt, h.priority, h.kind, h.epk, h.nonce, ...rest]), 'utf8');

/** Version 2's keys, by agreed secret (kept while it is: box-keys.ts) and then by the rest of the key's context. */
const agreementKeys = new WeakMap<Buffer, Map<string, Buffer>>();
/** A secret agrees keys with one host, or with one host of each name a sender's key was signed for: a few. */
const KEYS_PER_SECRET = 16;

/** The envelope's AES key (the versions: above). */
function messageKey(shared: Buffer, h: Header, recipientBox: string): Buffer {
  const context = JSON.stringify([h.senderHost, h.recipientHost, h.epk, recipientBox]);
  switch (h.v) {
    case 1:
      return deriveKey(shared, Buffer.from(h.id, 'utf8'), 'netsend hub v1\0', context);
    case 2:
      return agreementKey(shared, context);
  }
}

/** Version 2's key for `context` under `shared`: derived once. */
function agreementKey(shared: Buffer, context: string): Buffer {
  let keys = agreementKeys.get(shared);
  if (keys === undefined) agreementKeys.set(shared, (keys = new Map()));
  let key = keys.get(context);
  if (key === undefined) {
    if (keys.size >= KEYS_PER_SECRET) keys.clear();
    keys.set(context, (key = deriveKey(shared, Buffer.alloc(0), 'netsend hub v2\0', context)));
  }
  return key;
}

function deriveKey(shared: Buffer, salt: Buffer, label: string, context: string): Buffer {
  // Hashed: Node caps HKDF's info at 1,024 bytes, and two 253-character host names can pass that.
  const info = Buffer.concat([Buffer.from(label, 'utf8'), createHash('sha256').update(context, 'utf8').digest()]);
  return Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
}

// Ed25519 keys sign raw; a site CA's RSA or ECDSA host key with SHA-256, as signMessage does.
const digestFor = (key: KeyObject) => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');
export const signBytes = (key: KeyObject, data: Buffer): string => sign(digestFor(key), data, key).toString('base64url');

export function verifyBytes(key: KeyObject, data: Buffer, signature: string): boolean {
  try {
    return isBase64url(signature) && verify(digestFor(key), data, key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

function encodeSecret(secret: EnvelopeSecret): Buffer {
  const { text, title, user } = secret;
  if (text.length * 2 > MAX_TEXT_BYTES) throw new HubEnvelopeError('too-large', `The text is over ${MAX_TEXT_BYTES} bytes of UTF-16.`);
  if ((title ?? '').length > FIELD_LIMITS.title || (user ?? '').length > FIELD_LIMITS.user) throw new HubEnvelopeError('malformed', 'The title or user is too long.');
  return Buffer.concat(
    [text, title ?? null, user].flatMap((field) => {
      const body = field === null ? Buffer.alloc(0) : Buffer.from(field, 'utf16le');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(field === null ? ABSENT : body.length);
      return [length, body];
    }),
  );
}

function decodeSecret(plain: Buffer): EnvelopeSecret {
  const bad = () => new HubEnvelopeError('malformed', 'The decrypted secret is not valid.');
  const fields: (string | null)[] = [];
  let at = 0;
  for (const max of [MAX_TEXT_BYTES, 2 * FIELD_LIMITS.title, 2 * FIELD_LIMITS.user]) {
    if (at + 4 > plain.length) throw bad();
    const length = plain.readUInt32BE(at);
    at += 4;
    if (length === ABSENT) fields.push(null);
    else if (length % 2 !== 0 || length > max || at + length > plain.length) throw bad();
    else {
      fields.push(plain.toString('utf16le', at, at + length));
      at += length;
    }
  }
  const [text, title, user] = fields;
  if (at !== plain.length || typeof text !== 'string' || user === undefined) throw bad();
  return { text, user, ...(typeof title === 'string' ? { title } : {}) };
}
