import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, EncodeError } from '../bytes/index.js';
import { decodeNetbiosName, encodeNetbiosName, type NetbiosName } from '../netbios-name/index.js';

/** NetBIOS datagram service (RFC 1002 §4.4): message types of §4.4.1. */
export const DATAGRAM_TYPE = {
  directUnique: 0x10,
  directGroup: 0x11,
  broadcast: 0x12,
  error: 0x13,
  queryRequest: 0x14,
  positiveQueryResponse: 0x15,
  negativeQueryResponse: 0x16,
} as const;

type DataType = 'directUnique' | 'directGroup' | 'broadcast';
type QueryType = 'queryRequest' | 'positiveQueryResponse' | 'negativeQueryResponse';

/** The UDP port of the datagram service (RFC 1002 §4.4). */
export const DATAGRAM_PORT = 138;
/** RFC 1002 §4.4.1: a datagram (header included) is at most 576 bytes on the wire. */
export const MAX_DATAGRAM = 576;

export interface DatagramHeader {
  readonly id: number;
  /** SNT: the sending node's type (B 0, P 1, M 2, NBDD 3). */
  readonly nodeType: number;
  /** F: first fragment; M: more fragments follow. */
  readonly first: boolean;
  readonly more: boolean;
  readonly sourceIp: string;
  readonly sourcePort: number;
}

export type NetbiosDatagram =
  | (DatagramHeader & { readonly type: DataType; readonly offset: number; readonly source: NetbiosName; readonly destination: NetbiosName; readonly userData: Uint8Array })
  | (DatagramHeader & { readonly type: 'error'; readonly errorCode: number })
  | (DatagramHeader & { readonly type: QueryType; readonly destination: NetbiosName });

const TYPE_NAMES = Object.fromEntries(Object.entries(DATAGRAM_TYPE).map(([name, code]) => [code, name])) as Record<number, NetbiosDatagram['type']>;

export function decodeDatagram(bytes: Uint8Array): NetbiosDatagram {
  if (bytes.length > MAX_DATAGRAM) throw new DecodeError(DECODE_ERROR.tooLong, `a datagram of ${bytes.length} bytes is over ${MAX_DATAGRAM}`, 0);
  const reader = new ByteReader(bytes);
  const code = reader.u8();
  const type = TYPE_NAMES[code];
  if (type === undefined) throw new DecodeError(DECODE_ERROR.badValue, `0x${code.toString(16)} is not a datagram type`, 0);
  const flags = reader.u8();
  if (flags & 0xf0) throw new DecodeError(DECODE_ERROR.badValue, `reserved flag bits 0x${flags.toString(16)} are set`, 1);
  const header: DatagramHeader = {
    id: reader.u16be(),
    nodeType: (flags >> 2) & 0x03,
    first: (flags & 0x02) !== 0,
    more: (flags & 0x01) !== 0,
    sourceIp: [reader.u8(), reader.u8(), reader.u8(), reader.u8()].join('.'),
    sourcePort: reader.u16be(),
  };
  switch (type) {
    case 'directUnique':
    case 'directGroup':
    case 'broadcast': {
      const length = reader.u16be();
      const offset = reader.u16be();
      // RFC 1002 §4.4.2: DGM_LENGTH counts the names and the user data after the header
      if (length !== reader.remaining) {
        throw new DecodeError(length > reader.remaining ? DECODE_ERROR.truncated : DECODE_ERROR.tooLong, `DGM_LENGTH ${length} but ${reader.remaining} bytes follow`, 10);
      }
      const source = decodeNetbiosName(bytes, reader.offset);
      const destination = decodeNetbiosName(bytes, source.next);
      return { type, ...header, offset, source: source.value, destination: destination.value, userData: bytes.subarray(destination.next) };
    }
    case 'error': {
      const errorCode = reader.u8();
      if (reader.remaining !== 0) throw new DecodeError(DECODE_ERROR.tooLong, 'bytes follow an error datagram', reader.offset);
      return { type, ...header, errorCode };
    }
    default: {
      const destination = decodeNetbiosName(bytes, reader.offset);
      if (destination.next !== bytes.length) throw new DecodeError(DECODE_ERROR.tooLong, 'bytes follow the destination name', destination.next);
      return { type, ...header, destination: destination.value };
    }
  }
}

export function encodeDatagram(datagram: NetbiosDatagram): Uint8Array {
  const octets = datagram.sourceIp.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new EncodeError(`${JSON.stringify(datagram.sourceIp)} is not an IPv4 address`);
  if (!Number.isInteger(datagram.nodeType) || datagram.nodeType < 0 || datagram.nodeType > 3) throw new EncodeError('The node type is 0-3');
  const writer = new ByteWriter()
    .u8(DATAGRAM_TYPE[datagram.type])
    .u8((datagram.nodeType << 2) | (datagram.first ? 0x02 : 0) | (datagram.more ? 0x01 : 0))
    .u16be(datagram.id);
  for (const octet of octets) writer.u8(octet);
  writer.u16be(datagram.sourcePort);
  switch (datagram.type) {
    case 'directUnique':
    case 'directGroup':
    case 'broadcast': {
      const body = Buffer.concat([encodeNetbiosName(datagram.source), encodeNetbiosName(datagram.destination), datagram.userData]);
      writer.u16be(body.length).u16be(datagram.offset).bytes(body);
      break;
    }
    case 'error':
      writer.u8(datagram.errorCode);
      break;
    default:
      writer.bytes(encodeNetbiosName(datagram.destination));
  }
  if (writer.length > MAX_DATAGRAM) throw new EncodeError(`A datagram of ${writer.length} bytes is over ${MAX_DATAGRAM}`);
  return writer.toBytes();
}
