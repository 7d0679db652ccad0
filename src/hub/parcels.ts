/**
 * What the outbox's entries become on the wire: JetStream messages ("parcels"), each an envelope
 * on its own or a bundle of envelopes to one host (bundle.ts). Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { HostIdentity } from '../security/host-identity.js';
import { bundleBytes, encodeBundle, MAX_BUNDLE_BYTES, MAX_BUNDLE_ITEMS } from './bundle.js';
import { encodeEnvelope, parseStored, signEnvelope, type Envelope, type SealedItem } from './envelope.js';

/** An outbox entry as it is published. */
export interface PublishEntry {
  readonly subject: string;
  /** The sealed envelope, JSON (signed only if it was kept before bundles). */
  readonly envelope: string;
  readonly envelopeId: string;
  /** The envelope `envelope` is the JSON of, as sealed, when this daemon sealed it since it started: not parsed back. */
  readonly sealed?: SealedItem;
}

/** One JetStream message: its subject, its Nats-Msg-Id (what the hub drops a repeat by), its bytes, and the entries it carries (their indexes). */
export interface Parcel {
  readonly subject: string;
  readonly id: string;
  readonly data: Uint8Array;
  readonly entries: readonly number[];
}

export interface ParcelOptions {
  readonly sender: Pick<HostIdentity, 'name' | 'fingerprint' | 'privateKey'>;
  /** Whether `host`, as the registry knows it now, reads bundles. */
  readsBundles(host: string): boolean;
  /** The hub's max_payload, once it is known. */
  readonly maxBytes?: number | undefined;
}

/**
 * The parcels that carry `entries`, in order for each subject: messages to a host that reads
 * bundles go together, up to MAX_BUNDLE_ITEMS and the hub's max_payload a bundle; one alone, or
 * to a host that does not read bundles, goes as an envelope signed on its own, with its own id as
 * its Nats-Msg-Id. A bundle's Nats-Msg-Id is a digest of its envelopes' ids: the same entries
 * published again after a lost acknowledgement are dropped by the hub as before.
 */
export function parcelsOf(entries: readonly PublishEntry[], options: ParcelOptions): Parcel[] {
  const parcels: Parcel[] = [];
  const limit = Math.min(options.maxBytes ?? MAX_BUNDLE_BYTES, MAX_BUNDLE_BYTES);
  const alone = (i: number, data: Uint8Array): void => {
    const { subject, envelopeId } = entries[i] as PublishEntry;
    parcels.push({ subject, id: envelopeId, data, entries: [i] });
  };
  const signed = (item: SealedItem) => encodeEnvelope(signEnvelope(item, options.sender.privateKey));
  /** Entries gathered for a bundle, by subject, not yet made into a parcel. */
  const open = new Map<string, Group>();
  const close = (subject: string): void => {
    const group = open.get(subject);
    if (group === undefined) return;
    open.delete(subject);
    const [first] = group.members;
    if (group.members.length === 1 && first !== undefined) return alone(first.i, signed(first.item));
    const indexes = group.members.map((member) => member.i);
    const picked = indexes.map((i) => entries[i] as PublishEntry);
    const id = `bundle.${createHash('sha256').update(picked.map((entry) => entry.envelopeId).join(' ')).digest('base64url')}`;
    parcels.push({ subject, id, data: encodeBundle(picked.map((entry) => entry.envelope), options.sender, group.recipientHost), entries: indexes });
  };
  entries.forEach((entry, i) => {
    let stored: SealedItem | Envelope;
    try {
      stored = entry.sealed ?? parseStored(entry.envelope);
    } catch {
      // not one this host could have kept: published as it is, as before bundles (its recipient drops it)
      close(entry.subject);
      return alone(i, Buffer.from(entry.envelope, 'utf8'));
    }
    const bytes = Buffer.byteLength(entry.envelope, 'utf8');
    if ('sig' in stored || !options.readsBundles(stored.recipientHost) || bundleBytes(bytes) > limit) {
      // after what waits for its subject, so that each host's messages keep their order
      close(entry.subject);
      return alone(i, 'sig' in stored ? Buffer.from(entry.envelope, 'utf8') : signed(stored));
    }
    const group = open.get(entry.subject);
    if (group !== undefined && (group.members.length === MAX_BUNDLE_ITEMS || bundleBytes(group.bytes + bytes) > limit)) close(entry.subject);
    const now = open.get(entry.subject) ?? { recipientHost: stored.recipientHost, members: [], bytes: 0 };
    now.members.push({ i, item: stored });
    now.bytes += bytes;
    open.set(entry.subject, now);
  });
  for (const subject of [...open.keys()]) close(subject);
  return parcels;
}

interface Group {
  readonly recipientHost: string;
  readonly members: Array<{ readonly i: number; readonly item: SealedItem }>;
  bytes: number;
}
