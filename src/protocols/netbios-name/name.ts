import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, ENCODE_ERROR, EncodeError } from '../bytes/index.js';

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

/** RFC 1001 §14: 16 bytes, the last one the suffix, leave 15 for the name. */
export const MAX_NAME_CHARS = 15;
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
      if (bytes.length === 0 || bytes.length > MAX_LABEL) throw new EncodeError(`Scope label ${JSON.stringify(label)} is not 1-${MAX_LABEL} bytes`, ENCODE_ERROR.tooLong);
      writer.u8(bytes.length).bytes(bytes);
    }
  }
  writer.u8(0);
  if (writer.length > MAX_ENCODED_NAME) throw new EncodeError(`The name with its scope is ${writer.length} bytes; at most ${MAX_ENCODED_NAME}`, ENCODE_ERROR.tooLong);
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
  const { labels, next } = walkLabels(bytes, offset, options);
  const [first, ...scope] = labels;
  if (first === undefined || first.bytes.length !== FIRST_LABEL) {
    throw new DecodeError(DECODE_ERROR.badValue, `a NetBIOS name's first label is ${first?.bytes.length ?? 0} bytes, not ${FIRST_LABEL}`, first?.at ?? offset);
  }
  const raw = new Uint8Array(16);
  // RFC 1001 §14.1: two letters 'A'..'P' per byte, high half first
  for (let i = 0; i < 16; i++) {
    const high = (first.bytes[2 * i] as number) - 0x41;
    const low = (first.bytes[2 * i + 1] as number) - 0x41;
    if (high < 0 || high > 15 || low < 0 || low > 15) throw new DecodeError(DECODE_ERROR.badValue, 'an encoded NetBIOS name holds a letter outside A-P', first.at + 1 + 2 * i);
    raw[i] = (high << 4) | low;
  }
  const scopeLabels = scope.map(({ bytes: label, at }) => {
    // The scope is kept as dotted text, so a dot inside a label could not be told apart
    if (label.includes(0x2e)) throw new DecodeError(DECODE_ERROR.badValue, 'a scope label holds a dot', at);
    return Buffer.from(label).toString('latin1');
  });
  return { value: rawNameValue(raw, scopeLabels.join('.')), next };
}

/**
 * Reads length-prefixed labels up to the 0 byte (RFC 1002 §4.1), following compression pointers
 * when `options.compression` allows them.
 */
function walkLabels(bytes: Uint8Array, offset: number, options: DecodeNameOptions): { labels: Array<{ bytes: Uint8Array; at: number }>; next: number } {
  const labels: Array<{ bytes: Uint8Array; at: number }> = [];
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
      // Only backwards, before the labels that led here, so every walk ends (RFC 1035 §4.1.4)
      if (target >= sequenceStart) throw new DecodeError(DECODE_ERROR.badValue, `pointer to ${target} does not point back before ${sequenceStart}`, position);
      next ??= position + 2;
      position = sequenceStart = target;
      continue;
    }
    // RFC 1002 §4.1: 0b01 and 0b10 in the top bits are reserved; a length is at most 63
    if (size > MAX_LABEL) throw new DecodeError(DECODE_ERROR.badValue, `label length byte 0x${size.toString(16)} is not allowed`, position);
    total += size + 1;
    // RFC 1002 §4.1: at most 255 bytes, counted over the labels a walk visits
    if (total > MAX_ENCODED_NAME) throw new DecodeError(DECODE_ERROR.tooLong, `the name is over ${MAX_ENCODED_NAME} bytes`, position);
    if (size === 0) return { labels, next: next ?? position + 1 };
    labels.push({ bytes: reader.bytes(size, 'a label'), at: position });
    position = reader.offset;
  }
}

/** A name from its 16 raw bytes (15 space-padded characters and the suffix), as node status lists them. */
export function rawNameValue(raw: Uint8Array, scope = ''): NetbiosName {
  const name = Buffer.from(raw.subarray(0, 15)).toString('latin1').replace(/ +$/, '');
  return { name, suffix: raw[15] as number, scope };
}

/**
 * The 16 raw bytes of a name: 15 characters padded with spaces, and the suffix. Trailing spaces
 * in `name` are indistinguishable from the padding, so they do not survive a round trip.
 */
export function rawNameBytes(value: Pick<NetbiosName, 'name' | 'suffix'>): Uint8Array {
  if (value.name.length === 0 || value.name.length > MAX_NAME_CHARS || /[^\u0000-\u00ff]/.test(value.name)) {
    throw new EncodeError(`NetBIOS name ${JSON.stringify(value.name)} is not 1-${MAX_NAME_CHARS} single-byte characters`);
  }
  if (!Number.isInteger(value.suffix) || value.suffix < 0 || value.suffix > 0xff) throw new EncodeError(`Suffix ${value.suffix} is not a byte`);
  const raw = new Uint8Array(16).fill(0x20);
  raw.set(Buffer.from(value.name, 'latin1'));
  raw[15] = value.suffix;
  return raw;
}

/**
 * A name as it goes on the wire: ASCII letters upper-cased (names compare case-insensitively and
 * are sent upper-case), 1-15 characters. `name` is OEM bytes as latin1, so bytes from 0x80 up are
 * left alone: upper-casing those depends on the code page, so upper-case the text before
 * converting it to OEM.
 */
export function toWireName(name: string): string {
  if (name.length === 0 || name.length > MAX_NAME_CHARS) throw new EncodeError(`NetBIOS name ${JSON.stringify(name)} is not 1-${MAX_NAME_CHARS} characters`, ENCODE_ERROR.tooLong);
  if (/[^\u0000-\u00ff]/.test(name)) throw new EncodeError(`NetBIOS name ${JSON.stringify(name)} holds a character that is not one OEM byte`);
  return name.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/** "ALICE<03>", as tshark and nmblookup print names. */
export function formatNetbiosName(value: NetbiosName): string {
  const base = `${value.name}<${value.suffix.toString(16).padStart(2, '0')}>`;
  return value.scope === '' ? base : `${base}.${value.scope}`;
}
