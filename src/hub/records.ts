/** The registry's records, and how a replica checks one: well-formed, signed by the key its host published. */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { keyFingerprint } from '../security/certificate.js';
import type { HostIdentity } from '../security/host-identity.js';
import { verifyBoxKey, type EnvelopeVersion } from './envelope.js';

/** A host of the realm: what others need to reach it and to check what it signs. */
export interface HostRecord {
  readonly name: string;
  readonly workgroup: string;
  /** The host's Ed25519 public key (SPKI, base64url) and its fingerprint. */
  readonly hostKey: string;
  readonly fingerprint: string;
  /** Its X25519 key for messages sealed to it, bound to the host key by `boxSig`. */
  readonly boxKey: string;
  readonly boxSig: string;
  readonly sig: string;
  /**
   * What the host reads beyond version 1 envelopes on their own (`bundle-v1`: bundle.ts;
   * `envelope-v2`: envelope.ts), comma-separated,
   * and its host key's signature of that. Signed apart from the fields above, which hosts of older
   * versions check alone: they still take a record that has these. Absent from theirs.
   */
  readonly reads?: string;
  readonly readsSig?: string;
}

/** One alias claimed by one host (a computer name is its host record's). */
export interface NameClaim {
  readonly name: string;
  readonly host: string;
  readonly sig: string;
}

/** The bytes a record's signature covers: its fields in a fixed order, NUL-separated (no field holds a NUL). */
export const signed = (kind: string, fields: readonly string[]) => Buffer.from([`netsend-${kind}`, ...fields].join('\0'), 'utf8');
export const hostFields = (r: Omit<HostRecord, 'sig'>) => [r.name, r.workgroup, r.hostKey, r.fingerprint, r.boxKey, r.boxSig];
/** `reads` is signed with the record's own signature, so it holds for that record alone (not one of the host's older or newer ones). */
const readsFields = (r: Pick<HostRecord, 'name' | 'fingerprint' | 'sig'>, reads: string) => [r.name, r.fingerprint, r.sig, reads];
export const claimFields = (c: Omit<NameClaim, 'sig'>) => [c.name, c.host];

/** What this version reads: its host record says so, and senders bundle what they send it, in version 2 envelopes. */
export const READS = 'bundle-v1,envelope-v2';

const reads = (record: HostRecord, what: string): boolean => record.reads?.split(',').includes(what) === true;

/** Whether a host (its record, as verifiedHost took it) reads bundles. */
export const readsBundles = (record: HostRecord): boolean => reads(record, 'bundle-v1');

/** The envelope version to seal for a host (its record, as verifiedHost took it): 1 unless it says it reads 2. */
export const envelopeVersionFor = (record: HostRecord): EnvelopeVersion => (reads(record, 'envelope-v2') ? 2 : 1);

/** A NetBIOS name as the registry takes it: 1-15 characters, well-formed Unicode. */
export const validName = (name: string): boolean => name.length >= 1 && name.length <= 15 && name.isWellFormed();

export const isClaim = (c: Partial<NameClaim> | null): c is NameClaim =>
  c !== null && typeof c === 'object' && typeof c.name === 'string' && typeof c.host === 'string' && typeof c.sig === 'string';

/** A host record whose key is the one its fingerprint names, whose signature holds, and whose box key its host key binds to its name. */
export function verifiedHost(value: unknown): { record: HostRecord; key: KeyObject } | null {
  const r = value as Partial<HostRecord> | null;
  const fields = ['name', 'workgroup', 'hostKey', 'fingerprint', 'boxKey', 'boxSig', 'sig'] as const;
  if (r === null || typeof r !== 'object' || !fields.every((f) => typeof r[f] === 'string')) return null;
  const record = r as HostRecord;
  try {
    const key = createPublicKey({ key: Buffer.from(record.hostKey, 'base64url'), format: 'der', type: 'spki' });
    if (keyFingerprint(key) !== record.fingerprint) return null;
    const holds = verify(null, signed('host', hostFields(record)), key, Buffer.from(record.sig, 'base64url'));
    // a box key nothing can be sealed to would hold every message and receipt for it up
    if (!holds || !verifyBoxKey(key, record.name, record.boxKey, record.boxSig)) return null;
    // what it reads counts only as its key signed it; without that, it is read as an older host's record
    const { reads, readsSig, ...older } = record;
    const readsHolds = typeof reads === 'string' && reads.length <= 256 && typeof readsSig === 'string' && verify(null, signed('host-reads', readsFields(record, reads)), key, Buffer.from(readsSig, 'base64url'));
    return { record: readsHolds ? { ...older, reads, readsSig } : older, key };
  } catch {
    return null;
  }
}

/** This host's record, signed with its host key. */
export function signedHostRecord(identity: HostIdentity, workgroup: string, boxKey: string, boxSig: string): HostRecord {
  const spki = createPublicKey(identity.privateKey).export({ format: 'der', type: 'spki' });
  const unsigned = { name: identity.name, workgroup, hostKey: spki.toString('base64url'), fingerprint: identity.fingerprint, boxKey, boxSig };
  const sig = sign(null, signed('host', hostFields(unsigned)), identity.privateKey).toString('base64url');
  return { ...unsigned, sig, reads: READS, readsSig: sign(null, signed('host-reads', readsFields({ ...unsigned, sig }, READS)), identity.privateKey).toString('base64url') };
}
