import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, ENCODE_ERROR, EncodeError } from '../bytes/index.js';
import { MAX_ENCODED_NAME, decodeNetbiosName, encodeNetbiosName, type NetbiosName } from '../netbios-name/index.js';

/** Session service packet types (RFC 1002 §4.3.1). */
export const NBSS_TYPE = {
  message: 0x00,
  sessionRequest: 0x81,
  positiveResponse: 0x82,
  negativeResponse: 0x83,
  retargetResponse: 0x84,
  keepalive: 0x85,
} as const;

export type NbssType = keyof typeof NBSS_TYPE;

/** Negative session response error codes (RFC 1002 §4.3.4). */
export const NEGATIVE_RESPONSE = {
  notListeningOnCalledName: 0x80,
  notListeningForCallingName: 0x81,
  calledNameNotPresent: 0x82,
  insufficientResources: 0x83,
  unspecified: 0x8f,
} as const;

export type NegativeResponseCode = (typeof NEGATIVE_RESPONSE)[keyof typeof NEGATIVE_RESPONSE];

export type NbssPacket =
  | { readonly type: 'message'; readonly payload: Uint8Array }
  | { readonly type: 'sessionRequest'; readonly called: NetbiosName; readonly calling: NetbiosName }
  | { readonly type: 'positiveResponse' }
  | { readonly type: 'negativeResponse'; readonly error: NegativeResponseCode }
  | { readonly type: 'retargetResponse'; readonly ip: string; readonly port: number }
  | { readonly type: 'keepalive' };

/** The NetBIOS session service's well-known TCP port (RFC 1002 §4.3). */
export const NBSS_PORT = 139;

export const NBSS_HEADER = 4;
/** RFC 1002 §4.3.1: 16 length bits plus the E (extension) bit: 131,071 bytes of body at most. */
export const MAX_NBSS_BODY = 0x1ffff;
/** The E bit of the flags byte (RFC 1002 §4.3.1); the other seven bits are reserved, zero. */
const LENGTH_EXTENSION = 0x01;

/**
 * The body sizes each control packet may have; only session messages need the 17-bit length.
 * A session request holds two names of 34 to MAX_ENCODED_NAME bytes each (RFC 1002 §4.3.2).
 */
const BODY_SIZE: Readonly<Record<Exclude<NbssType, 'message'>, { min: number; max: number }>> = {
  sessionRequest: { min: 2 * 34, max: 2 * MAX_ENCODED_NAME },
  positiveResponse: { min: 0, max: 0 },
  negativeResponse: { min: 1, max: 1 },
  retargetResponse: { min: 6, max: 6 },
  keepalive: { min: 0, max: 0 },
};

const TYPE_BY_CODE = new Map<number, NbssType>(Object.entries(NBSS_TYPE).map(([name, code]) => [code, name as NbssType]));
const NEGATIVE_CODES = new Set<number>(Object.values(NEGATIVE_RESPONSE));

export function encodeNbssPacket(packet: NbssPacket): Uint8Array {
  const writer = new ByteWriter().u8(NBSS_TYPE[packet.type]);
  const flagsAt = writer.reserve(1);
  const lengthAt = writer.reserve(2);
  switch (packet.type) {
    case 'message':
      writer.bytes(packet.payload);
      break;
    case 'sessionRequest':
      writer.bytes(encodeNetbiosName(packet.called)).bytes(encodeNetbiosName(packet.calling));
      break;
    case 'positiveResponse':
    case 'keepalive':
      break;
    case 'negativeResponse':
      if (!NEGATIVE_CODES.has(packet.error)) throw new EncodeError(`${packet.error} is not a negative session response code`);
      writer.u8(packet.error);
      break;
    case 'retargetResponse':
      for (const octet of ipv4Octets(packet.ip)) writer.u8(octet);
      writer.u16be(packet.port);
      break;
  }
  const length = writer.length - NBSS_HEADER;
  if (length > MAX_NBSS_BODY) throw new EncodeError(`A session packet body of ${length} bytes is over ${MAX_NBSS_BODY}`, ENCODE_ERROR.tooLong);
  writer.patchU8(flagsAt, length > 0xffff ? LENGTH_EXTENSION : 0);
  writer.patchU16be(lengthAt, length & 0xffff);
  return writer.toBytes();
}

/**
 * Reads and checks a 4-byte header: a known type, reserved flags clear, and a body size that
 * type can have (so the E bit only on a session message). The framer calls it before buffering.
 * @returns the packet type and the body length the header declares
 */
export function readNbssHeader(header: Uint8Array): { type: NbssType; bodyLength: number } {
  const reader = new ByteReader(header);
  const code = reader.u8();
  const flags = reader.u8();
  const low = reader.u16be();
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) throw new DecodeError(DECODE_ERROR.badValue, `0x${code.toString(16)} is not a session packet type`, 0);
  // RFC 1002 §4.3.1: the flag bits other than E are reserved and must be zero
  if ((flags & ~LENGTH_EXTENSION) !== 0) throw new DecodeError(DECODE_ERROR.badValue, `reserved flag bits 0x${flags.toString(16)} are set`, 1);
  const bodyLength = ((flags & LENGTH_EXTENSION) << 16) | low;
  if (type !== 'message') {
    // RFC 1002 §4.3.2-§4.3.7: control packets have fixed or name-bounded bodies
    const { min, max } = BODY_SIZE[type];
    if (bodyLength < min || bodyLength > max) {
      const allowed = min === max ? `${min}` : `${min}-${max}`;
      throw new DecodeError(bodyLength > max ? DECODE_ERROR.tooLong : DECODE_ERROR.badValue, `a ${type} with ${bodyLength} body bytes, not ${allowed}`, 2);
    }
  }
  return { type, bodyLength };
}

/** Decodes one whole packet: `frame` is its header and exactly its body. */
export function decodeNbssPacket(frame: Uint8Array): NbssPacket {
  const { type, bodyLength } = readNbssHeader(frame);
  const reader = new ByteReader(frame, NBSS_HEADER);
  if (bodyLength !== reader.remaining) {
    throw new DecodeError(bodyLength > reader.remaining ? DECODE_ERROR.truncated : DECODE_ERROR.tooLong, `the header declares ${bodyLength} bytes, the frame holds ${reader.remaining}`, 2);
  }
  switch (type) {
    case 'message':
      return { type, payload: reader.bytes(bodyLength) };
    case 'sessionRequest': {
      // RFC 1002 §4.3.2: called name, then calling name, nothing after
      const called = decodeNetbiosName(frame, NBSS_HEADER);
      const calling = decodeNetbiosName(frame, called.next);
      if (calling.next !== frame.byteLength) throw new DecodeError(DECODE_ERROR.tooLong, 'bytes follow the calling name', calling.next);
      return { type, called: called.value, calling: calling.value };
    }
    case 'negativeResponse': {
      const error = reader.u8();
      // RFC 1002 §4.3.4 lists five codes
      if (!NEGATIVE_CODES.has(error)) throw new DecodeError(DECODE_ERROR.badValue, `0x${error.toString(16)} is not a negative session response code`, NBSS_HEADER);
      return { type, error: error as NegativeResponseCode };
    }
    case 'retargetResponse': {
      const ip = [reader.u8(), reader.u8(), reader.u8(), reader.u8()].join('.');
      return { type, ip, port: reader.u16be() };
    }
    case 'positiveResponse':
    case 'keepalive':
      return { type };
  }
}

function ipv4Octets(ip: string): number[] {
  const octets = ip.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^(0|[1-9]\d{0,2})$/.test(o) || Number(o) > 255)) {
    throw new EncodeError(`${JSON.stringify(ip)} is not an IPv4 address`);
  }
  return octets.map(Number);
}
