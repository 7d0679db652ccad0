import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, EncodeError } from '../bytes/index.js';
import { decodeNetbiosName, encodeNetbiosName, type NetbiosName } from '../netbios-name/index.js';

/** Session service packet types (RFC 1002 §4.3.1). */
export const NBSS_TYPE = {
  message: 0x00,
  sessionRequest: 0x81,
  positiveResponse: 0x82,
  negativeResponse: 0x83,
  retargetResponse: 0x84,
  keepalive: 0x85,
} as const;

/** Negative session response error codes (RFC 1002 §4.3.4). */
export const NEGATIVE_RESPONSE = {
  notListeningOnCalledName: 0x80,
  notListeningForCallingName: 0x81,
  calledNameNotPresent: 0x82,
  insufficientResources: 0x83,
  unspecified: 0x8f,
} as const;

export type NbssPacket =
  | { readonly type: 'message'; readonly payload: Uint8Array }
  | { readonly type: 'sessionRequest'; readonly called: NetbiosName; readonly calling: NetbiosName }
  | { readonly type: 'positiveResponse' }
  | { readonly type: 'negativeResponse'; readonly error: number }
  | { readonly type: 'retargetResponse'; readonly address: string; readonly port: number }
  | { readonly type: 'keepalive' };

/** The NetBIOS session service's well-known TCP port (RFC 1002 §4.3). */
export const NBSS_PORT = 139;

export const NBSS_HEADER = 4;
/** RFC 1002 §4.3.1: 16 length bits plus the E (extension) bit: 131,071 bytes of body at most. */
export const MAX_NBSS_BODY = 0x1ffff;

export function encodeNbssPacket(packet: NbssPacket): Uint8Array {
  let body: Uint8Array;
  switch (packet.type) {
    case 'message':
      body = packet.payload;
      break;
    case 'sessionRequest':
      body = Buffer.concat([encodeNetbiosName(packet.called), encodeNetbiosName(packet.calling)]);
      break;
    case 'positiveResponse':
    case 'keepalive':
      body = new Uint8Array(0);
      break;
    case 'negativeResponse':
      body = new ByteWriter().u8(packet.error).toBytes();
      break;
    case 'retargetResponse': {
      const octets = packet.address.split('.').map(Number);
      if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
        throw new EncodeError(`${JSON.stringify(packet.address)} is not an IPv4 address`);
      }
      const writer = new ByteWriter();
      for (const octet of octets) writer.u8(octet);
      body = writer.u16be(packet.port).toBytes();
      break;
    }
  }
  if (body.byteLength > MAX_NBSS_BODY) throw new EncodeError(`A session packet body of ${body.byteLength} bytes is over ${MAX_NBSS_BODY}`);
  return new ByteWriter()
    .u8(NBSS_TYPE[packet.type])
    .u8(body.byteLength > 0xffff ? 1 : 0)
    .u16be(body.byteLength & 0xffff)
    .bytes(body)
    .toBytes();
}

/** The body length a 4-byte header declares. */
export function declaredBodyLength(header: Uint8Array): number {
  return (((header[1] as number) & 0x01) << 16) | ((header[2] as number) << 8) | (header[3] as number);
}

/** Decodes one whole packet (header and exactly its body). */
export function decodeNbssPacket(frame: Uint8Array): NbssPacket {
  const reader = new ByteReader(frame);
  const type = reader.u8();
  const flags = reader.u8();
  reader.u16be();
  // RFC 1002 §4.3.1: the flag bits other than E are reserved and must be zero
  if ((flags & 0xfe) !== 0) throw new DecodeError(DECODE_ERROR.badValue, `reserved flag bits 0x${flags.toString(16)} are set`, 1);
  const length = declaredBodyLength(frame);
  if (length !== reader.remaining) {
    throw new DecodeError(length > reader.remaining ? DECODE_ERROR.truncated : DECODE_ERROR.tooLong, `the header declares ${length} bytes, the frame holds ${reader.remaining}`, 2);
  }
  const fixed = (size: number, what: string) => {
    if (length !== size) throw new DecodeError(DECODE_ERROR.badValue, `a ${what} has ${length} body bytes, not ${size}`, 2);
  };
  switch (type) {
    case NBSS_TYPE.message:
      return { type: 'message', payload: reader.bytes(length) };
    case NBSS_TYPE.sessionRequest: {
      const called = decodeNetbiosName(frame, NBSS_HEADER);
      const calling = decodeNetbiosName(frame, called.next);
      if (calling.next !== frame.byteLength) throw new DecodeError(DECODE_ERROR.tooLong, 'bytes follow the calling name', calling.next);
      return { type: 'sessionRequest', called: called.value, calling: calling.value };
    }
    case NBSS_TYPE.positiveResponse:
      fixed(0, 'positive response');
      return { type: 'positiveResponse' };
    case NBSS_TYPE.negativeResponse:
      fixed(1, 'negative response');
      return { type: 'negativeResponse', error: reader.u8() };
    case NBSS_TYPE.retargetResponse: {
      fixed(6, 'retarget response');
      const address = [reader.u8(), reader.u8(), reader.u8(), reader.u8()].join('.');
      return { type: 'retargetResponse', address, port: reader.u16be() };
    }
    case NBSS_TYPE.keepalive:
      fixed(0, 'keepalive');
      return { type: 'keepalive' };
    default:
      throw new DecodeError(DECODE_ERROR.badValue, `0x${type.toString(16)} is not a session packet type`, 0);
  }
}
