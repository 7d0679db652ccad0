/**
 * A bundle: the messages one host sends another, published together as one JetStream message and
 * signed once. Each message is sealed as it is sent (envelope.ts: encrypted to the recipient host,
 * its header bound into its AAD) and kept in the outbox unsigned; a bundle carries up to
 * MAX_BUNDLE_ITEMS of them to one host, and the sending host's key signs the SHA-256 of each one's
 * bytes, in order. One signature and one check in place of one per message: Ed25519's check was
 * the largest part of a receiving host's CPU. JetStream, too, stores, replicates, delivers and
 * acknowledges one message in place of many.
 *
 * Only a host whose registry record says it reads bundles (records.ts, `reads`) is sent one; any
 * other gets each message signed on its own, as before bundles.
 *
 * The bytes: the line `netsend-hub-bundle-v1`, a line of JSON { senderHost, senderKey,
 * recipientHost, sizes, sig }, then the items' bytes back to back, `sizes` long each. The
 * signature covers the UTF-8 of JSON.stringify(['netsend-hub-bundle-v1', senderHost, senderKey,
 * recipientHost, [base64url SHA-256 of each item]]): an item's exact bytes, not a re-encoding of
 * what was parsed from them. Every item must name the bundle's sender, key and recipient.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { HostIdentity } from '../security/host-identity.js';
import { bounded, checkSenderKey, decodeItem, FIELD_LIMITS, HubEnvelopeError, MAX_ENVELOPE_BYTES, signBytes, utf8, verifyBytes, type SealedItem } from './envelope.js';

const LABEL = 'netsend-hub-bundle-v1';
const MAGIC = Buffer.from(`${LABEL}\n`, 'utf8');
/** The most messages one bundle carries: what an inbox takes at once stays bounded. */
export const MAX_BUNDLE_ITEMS = 64;
/** The largest bundle read or made: the largest single envelope, so a hub that carries one carries the other. */
export const MAX_BUNDLE_BYTES = MAX_ENVELOPE_BYTES;
/** The header line at worst: hosts where JSON writes a unit as six bytes, the key, the sizes (7 digits and a comma each), the signature, and the keys and punctuation. */
const MAX_HEADER_BYTES = 6 * 2 * FIELD_LIMITS.host + 64 + 8 * MAX_BUNDLE_ITEMS + FIELD_LIMITS.sig + 256;

/** A bundle as read off the wire, before its signature is checked. */
export interface RawBundle {
  readonly senderHost: string;
  readonly senderKey: string;
  readonly recipientHost: string;
  readonly sig: string;
  readonly items: readonly Uint8Array[];
}

/** Whether a JetStream message's bytes are a bundle (an envelope on its own is a JSON object). */
export const isBundle = (bytes: Uint8Array): boolean => bytes.byteLength >= MAGIC.length && MAGIC.equals(bytes.subarray(0, MAGIC.length));

/** The most bytes a bundle whose items take `itemBytes` in all can take. */
export const bundleBytes = (itemBytes: number): number => MAGIC.length + MAX_HEADER_BYTES + 1 + itemBytes;

/** The bytes to publish: `items` (sealed by `sender`, to `recipientHost`), signed together. */
export function encodeBundle(items: readonly string[], sender: Pick<HostIdentity, 'name' | 'fingerprint' | 'privateKey'>, recipientHost: string): Uint8Array {
  if (items.length === 0 || items.length > MAX_BUNDLE_ITEMS) throw new RangeError(`A bundle holds 1 to ${MAX_BUNDLE_ITEMS} messages, not ${items.length}.`);
  const bodies = items.map((item) => Buffer.from(item, 'utf8'));
  const header = { senderHost: sender.name, senderKey: sender.fingerprint, recipientHost, sizes: bodies.map((body) => body.length), sig: '' };
  header.sig = signBytes(sender.privateKey, signedBytes(header, bodies));
  return Buffer.concat([MAGIC, Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), ...bodies]);
}

/**
 * A bundle's parts, every bound checked; its signature is openBundle's to check.
 * @throws HubEnvelopeError ('too-large', 'malformed'), never anything else
 */
export function decodeBundle(bytes: Uint8Array): RawBundle {
  const bad = (what: string) => new HubEnvelopeError('malformed', `The bundle's ${what} is missing or not valid.`);
  if (bytes.byteLength > MAX_BUNDLE_BYTES) throw new HubEnvelopeError('too-large', `The bundle is ${bytes.byteLength} bytes, over the limit of ${MAX_BUNDLE_BYTES}.`);
  if (!isBundle(bytes)) throw bad('label');
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // looked for within the header's bound only
  const end = body.subarray(0, MAGIC.length + MAX_HEADER_BYTES + 1).indexOf(0x0a, MAGIC.length);
  if (end < 0) throw bad('header');
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(body.subarray(MAGIC.length, end)));
  } catch {
    throw bad('header');
  }
  const h = (typeof header === 'object' && header !== null && !Array.isArray(header) ? header : {}) as Record<string, unknown>;
  if (Object.keys(h).length !== 5) throw bad('header');
  if (!bounded(h.senderHost, FIELD_LIMITS.host) || !bounded(h.recipientHost, FIELD_LIMITS.host) || !bounded(h.senderKey, 64) || !bounded(h.sig, FIELD_LIMITS.sig)) throw bad('header');
  const { sizes } = h;
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.length > MAX_BUNDLE_ITEMS) throw bad('sizes');
  const items: Uint8Array[] = [];
  let at = end + 1;
  for (const size of sizes) {
    if (!Number.isSafeInteger(size) || (size as number) < 2 || at + (size as number) > body.length) throw bad('sizes');
    items.push(body.subarray(at, (at += size as number)));
  }
  // nothing unsigned after the last item
  if (at !== body.length) throw bad('sizes');
  return { senderHost: h.senderHost, senderKey: h.senderKey, recipientHost: h.recipientHost, sig: h.sig, items };
}

/**
 * The items of a bundle whose signature holds for `senderPublicKey` (the registry's key for its
 * sender host), each checked, each naming the bundle's sender, key and recipient.
 * @throws HubEnvelopeError ('bad-signature', 'malformed', 'version', 'too-large')
 */
export function openBundle(bundle: RawBundle, senderPublicKey: KeyObject): SealedItem[] {
  checkSenderKey(bundle, senderPublicKey);
  if (!verifyBytes(senderPublicKey, signedBytes(bundle, bundle.items), bundle.sig)) {
    throw new HubEnvelopeError('bad-signature', `The bundle's signature does not match the host key of ${JSON.stringify(bundle.senderHost)}.`);
  }
  return bundle.items.map((bytes) => {
    const item = decodeItem(bytes);
    if (item.senderHost !== bundle.senderHost || item.senderKey !== bundle.senderKey || item.recipientHost !== bundle.recipientHost) {
      throw new HubEnvelopeError('malformed', 'A message in the bundle names another sender or recipient than the bundle.');
    }
    return item;
  });
}

function signedBytes(header: Pick<RawBundle, 'senderHost' | 'senderKey' | 'recipientHost'>, items: readonly Uint8Array[]): Buffer {
  const digests = items.map((item) => createHash('sha256').update(item).digest('base64url'));
  return Buffer.from(JSON.stringify([LABEL, header.senderHost, header.senderKey, header.recipientHost, digests]), 'utf8');
}
