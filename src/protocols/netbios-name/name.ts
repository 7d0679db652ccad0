import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, EncodeError } from '../bytes/index.js';

/** The 16th byte of a NetBIOS name: what the name is for (RFC 1001 §5.2, [MS-NBTE]). */
export const SUFFIX = {
  workstation: 0x00,
  messenger: 0x03,
  server: 0x20,
  domainMasterBrowser: 0x1b,
  domainControllers: 0x1c,
  masterBrowser: 0x1d,
  browserElection: 0x1e,
} as const;

/**
 * A NetBIOS name. `name` holds its bytes (OEM code page) one character per byte (latin1), at
 * most 15, without the space padding; the caller converts from and to the code page.
 */
export interface NetbiosName {
  readonly name: string;
  readonly suffix: number;
  /** The scope id: '' or dot-separated labels. */
  readonly scope: string;
}

/** RFC 1002 §4.1: a name with its scope is at most 255 bytes on the wire. */
export const MAX_ENCODED_NAME = 255;
/** RFC 1002 §4.1 (from RFC 1035): a label holds at most 63 bytes. */
export const MAX_LABEL = 63;
const FIRST_LABEL = 32;

/** Second-level encoding: the first-level label (32 letters), the scope labels, a 0 byte. */
export function encodeNetbiosName(value: NetbiosName): Uint8Array {
  const padded = rawNameBytes(value);
  const writer = new ByteWriter().u8(FIRST_LABEL);
  // RFC 1001 §14.1: each half-byte becomes the letter 'A' + its value
  for (const byte of padded) writer.u8(0x41 + (byte >> 4)).u8(0x41 + (byte & 0x0f));
  if (value.scope !== '') {
    for (const label of value.scope.split('.')) {
      const bytes = Buffer.from(label, 'latin1');
      if (bytes.length === 0 || bytes.length > MAX_LABEL) throw new EncodeError(`Scope label ${JSON.stringify(label)} is not 1-${MAX_LABEL} bytes`);
      writer.u8(bytes.length).bytes(bytes);
    }
  }
  writer.u8(0);
  if (writer.length > MAX_ENCODED_NAME) throw new EncodeError(`The name with its scope is ${writer.length} bytes; at most ${MAX_ENCODED_NAME}`);
  return writer.toBytes();
}

export interface DecodeNameOptions {
  /**
   * Follow compression pointers (RFC 1002 §4.1, after RFC 1035 §4.1.4), as the name service
   * uses them. A pointer must point before the labels that led to it, so a walk always ends.
   * The session service carries names without them (RFC 1002 §4.3.2).
   */
  readonly compression?: boolean;
}

/**
 * Decodes a second-level encoded NetBIOS name at `offset`.
 * @returns the name and the offset after it (after the first pointer, when one was followed)
 */
export function decodeNetbiosName(bytes: Uint8Array, offset = 0, options: DecodeNameOptions = {}): { value: NetbiosName; next: number } {
  const labels: Uint8Array[] = [];
  let position = offset;
  /** Where the labels being read began: a pointer must point before it. */
  let sequenceStart = offset;
  let next: number | undefined;
  let total = 0;
  for (;;) {
    const reader = new ByteReader(bytes, position);
    const size = reader.u8();
    if ((size & 0xc0) === 0xc0) {
      if (!options.compression) throw new DecodeError(DECODE_ERROR.badValue, 'a compression pointer is not allowed here', position);
      const target = ((size & 0x3f) << 8) | reader.u8();
      if (target >= sequenceStart) throw new DecodeError(DECODE_ERROR.badValue, `pointer to ${target} does not point back before ${sequenceStart}`, position);
      next ??= position + 2;
      position = sequenceStart = target;
      continue;
    }
    if (size > MAX_LABEL) throw new DecodeError(DECODE_ERROR.badValue, `label length byte 0x${size.toString(16)} is not allowed`, position);
    total += size + 1;
    if (total > MAX_ENCODED_NAME) throw new DecodeError(DECODE_ERROR.tooLong, `the name is over ${MAX_ENCODED_NAME} bytes`, position);
    if (size === 0) {
      position += 1;
      break;
    }
    labels.push(reader.bytes(size, 'a label'));
    position = reader.offset;
  }
  const [first, ...scope] = labels;
  if (first === undefined || first.length !== FIRST_LABEL) {
    throw new DecodeError(DECODE_ERROR.badValue, `a NetBIOS name's first label is ${first?.length ?? 0} bytes, not ${FIRST_LABEL}`, offset);
  }
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const high = (first[2 * i] as number) - 0x41;
    const low = (first[2 * i + 1] as number) - 0x41;
    if (high < 0 || high > 15 || low < 0 || low > 15) throw new DecodeError(DECODE_ERROR.badValue, 'an encoded NetBIOS name holds a letter outside A-P', offset);
    raw[i] = (high << 4) | low;
  }
  return { value: rawNameValue(raw, scope.map((l) => Buffer.from(l).toString('latin1')).join('.')), next: next ?? position };
}

/** A name from its 16 raw bytes (15 space-padded characters and the suffix), as node status lists them. */
export function rawNameValue(raw: Uint8Array, scope = ''): NetbiosName {
  const name = Buffer.from(raw.subarray(0, 15)).toString('latin1').replace(/ +$/, '');
  return { name, suffix: raw[15] as number, scope };
}

/** The 16 raw bytes of a name: 15 characters padded with spaces, and the suffix. */
export function rawNameBytes(value: Pick<NetbiosName, 'name' | 'suffix'>): Uint8Array {
  if (value.name.length === 0 || value.name.length > 15 || /[^\u0000-\u00ff]/.test(value.name)) {
    throw new EncodeError(`NetBIOS name ${JSON.stringify(value.name)} is not 1-15 single-byte characters`);
  }
  if (!Number.isInteger(value.suffix) || value.suffix < 0 || value.suffix > 0xff) throw new EncodeError(`Suffix ${value.suffix} is not a byte`);
  const raw = new Uint8Array(16).fill(0x20);
  raw.set(Buffer.from(value.name, 'latin1'));
  raw[15] = value.suffix;
  return raw;
}

/** "ALICE<03>", as tshark and nmblookup print names. */
export function formatNetbiosName(value: NetbiosName): string {
  const base = `${value.name}<${value.suffix.toString(16).padStart(2, '0')}>`;
  return value.scope === '' ? base : `${base}.${value.scope}`;
}
