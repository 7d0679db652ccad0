import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, EncodeError } from '../bytes/index.js';
import { decodeNetbiosName, encodeNetbiosName, rawNameBytes, rawNameValue, type NetbiosName } from '../netbios-name/index.js';

/** NetBIOS name service packets (RFC 1002 §4.2): a DNS-shaped header, questions and records. */

/** RFC 1002 §4.2.1.1 */
export const NBNS_OPCODE = {
  query: 0x0,
  registration: 0x5,
  release: 0x6,
  wack: 0x7,
  refresh: 0x8,
  /** Windows sends refreshes with 9 as well ([MS-NBTE] §2.2.1). */
  refreshAlternate: 0x9,
  multihomedRegistration: 0xf,
} as const;

/** RFC 1002 §4.2.1.1 (and §4.2.6: 6 ACT_ERR, 7 CFT_ERR for registrations) */
export const NBNS_RCODE = {
  noError: 0x0,
  formatError: 0x1,
  serverFailure: 0x2,
  nameError: 0x3,
  notImplemented: 0x4,
  refused: 0x5,
  active: 0x6,
  conflict: 0x7,
} as const;

/** RFC 1002 §4.2.1.2 / §4.2.1.3 */
export const RR_TYPE = { A: 0x0001, NS: 0x0002, NULL: 0x000a, NB: 0x0020, NBSTAT: 0x0021 } as const;
export const RR_CLASS_IN = 0x0001;

/** The UDP port of the name service (RFC 1002 §4.2). */
export const NBNS_PORT = 137;
/**
 * Longest packet decoded: a node status answer listing 255 names takes 4.7 KB, nothing else
 * legitimate comes near it, and datagrams on a LAN are at most 1,500 bytes unfragmented.
 */
export const MAX_NBNS_PACKET = 8192;
/** Records per section: real packets carry one or two. */
export const MAX_RECORDS_PER_SECTION = 16;
/** NB entries in one record (a multihomed host's addresses). */
export const MAX_NB_ENTRIES = 64;

export type NodeType = 'B' | 'P' | 'M' | 'H';
const NODE_TYPES: readonly NodeType[] = ['B', 'P', 'M', 'H'];

export interface NbnsFlags {
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  readonly broadcast: boolean;
}

export interface NbnsQuestion {
  readonly name: NetbiosName;
  readonly type: number;
  readonly class: number;
}

/** One address of an NB record: NB_FLAGS (group bit, owner node type) and the IPv4 address. */
export interface NbEntry {
  readonly group: boolean;
  readonly nodeType: NodeType;
  readonly address: string;
}

/** One name of a node status answer (RFC 1002 §4.2.18). */
export interface NodeStatusName {
  readonly name: string;
  readonly suffix: number;
  /** NAME_FLAGS: group, owner node type, deregistering, conflict, active, permanent bits. */
  readonly flags: number;
}

export type RecordData =
  | { readonly kind: 'nb'; readonly entries: readonly NbEntry[] }
  | { readonly kind: 'nodeStatus'; readonly names: readonly NodeStatusName[]; readonly statistics: Uint8Array }
  | { readonly kind: 'wack'; readonly requestFlags: number }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

export interface NbnsRecord {
  readonly name: NetbiosName;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: RecordData;
}

export interface NbnsPacket {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly flags: NbnsFlags;
  readonly rcode: number;
  readonly questions: readonly NbnsQuestion[];
  readonly answers: readonly NbnsRecord[];
  readonly authorities: readonly NbnsRecord[];
  readonly additionals: readonly NbnsRecord[];
}

const FLAG = { response: 0x8000, authoritative: 0x0400, truncated: 0x0200, recursionDesired: 0x0100, recursionAvailable: 0x0080, broadcast: 0x0010 } as const;

export function decodeNbnsPacket(bytes: Uint8Array): NbnsPacket {
  if (bytes.length > MAX_NBNS_PACKET) throw new DecodeError(DECODE_ERROR.tooLong, `a name service packet of ${bytes.length} bytes is over ${MAX_NBNS_PACKET}`, 0);
  const reader = new ByteReader(bytes);
  const id = reader.u16be();
  const bits = reader.u16be();
  const counts = [reader.u16be(), reader.u16be(), reader.u16be(), reader.u16be()];
  counts.forEach((count, i) => {
    if (count > MAX_RECORDS_PER_SECTION) throw new DecodeError(DECODE_ERROR.tooLong, `${count} entries in a section; at most ${MAX_RECORDS_PER_SECTION}`, 4 + 2 * i);
  });
  const opcode = (bits >> 11) & 0x0f;
  let position = reader.offset;
  const questions: NbnsQuestion[] = [];
  for (let i = 0; i < (counts[0] as number); i++) {
    const { value: name, next } = decodeNetbiosName(bytes, position, { compression: true });
    const fields = new ByteReader(bytes, next);
    questions.push({ name, type: fields.u16be(), class: fields.u16be() });
    position = fields.offset;
  }
  const sections: NbnsRecord[][] = [];
  for (const count of counts.slice(1)) {
    const records: NbnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const { record, next } = decodeRecord(bytes, position, opcode);
      records.push(record);
      position = next;
    }
    sections.push(records);
  }
  if (position !== bytes.length) throw new DecodeError(DECODE_ERROR.tooLong, `${bytes.length - position} bytes follow the last record`, position);
  return {
    id,
    response: (bits & FLAG.response) !== 0,
    opcode,
    flags: {
      authoritative: (bits & FLAG.authoritative) !== 0,
      truncated: (bits & FLAG.truncated) !== 0,
      recursionDesired: (bits & FLAG.recursionDesired) !== 0,
      recursionAvailable: (bits & FLAG.recursionAvailable) !== 0,
      broadcast: (bits & FLAG.broadcast) !== 0,
    },
    rcode: bits & 0x0f,
    questions,
    answers: sections[0] ?? [],
    authorities: sections[1] ?? [],
    additionals: sections[2] ?? [],
  };
}

function decodeRecord(bytes: Uint8Array, offset: number, opcode: number): { record: NbnsRecord; next: number } {
  const { value: name, next } = decodeNetbiosName(bytes, offset, { compression: true });
  const reader = new ByteReader(bytes, next);
  const type = reader.u16be();
  const klass = reader.u16be();
  const ttl = reader.u32be();
  const length = reader.u16be();
  const dataAt = reader.offset;
  const rdata = reader.bytes(length, 'the record data');
  return { record: { name, type, class: klass, ttl, data: decodeRecordData(type, rdata, opcode, dataAt) }, next: reader.offset };
}

function decodeRecordData(type: number, rdata: Uint8Array, opcode: number, at: number): RecordData {
  const reader = new ByteReader(rdata);
  // RFC 1002 §4.2.16: a WACK's record data is the flags of the request it answers
  if (opcode === NBNS_OPCODE.wack && type === RR_TYPE.NB && rdata.length === 2) return { kind: 'wack', requestFlags: reader.u16be() };
  if (type === RR_TYPE.NB && rdata.length % 6 === 0) {
    if (rdata.length / 6 > MAX_NB_ENTRIES) throw new DecodeError(DECODE_ERROR.tooLong, `${rdata.length / 6} addresses in one record`, at);
    const entries: NbEntry[] = [];
    while (reader.remaining > 0) {
      const flags = reader.u16be();
      const address = [reader.u8(), reader.u8(), reader.u8(), reader.u8()].join('.');
      entries.push({ group: (flags & 0x8000) !== 0, nodeType: NODE_TYPES[(flags >> 13) & 0x03] as NodeType, address });
    }
    return { kind: 'nb', entries };
  }
  if (type === RR_TYPE.NBSTAT && rdata.length > 0) {
    const count = reader.u8();
    const names: NodeStatusName[] = [];
    for (let i = 0; i < count; i++) {
      const { name, suffix } = rawNameValue(reader.bytes(16, 'a node status name'));
      names.push({ name, suffix, flags: reader.u16be() });
    }
    return { kind: 'nodeStatus', names, statistics: reader.bytes(reader.remaining) };
  }
  return { kind: 'raw', bytes: rdata };
}

export function encodeNbnsPacket(packet: NbnsPacket): Uint8Array {
  const { flags } = packet;
  if (packet.opcode < 0 || packet.opcode > 0xf || packet.rcode < 0 || packet.rcode > 0xf) throw new EncodeError('opcode and rcode are 4-bit values');
  const bits =
    (packet.response ? FLAG.response : 0) |
    (packet.opcode << 11) |
    (flags.authoritative ? FLAG.authoritative : 0) |
    (flags.truncated ? FLAG.truncated : 0) |
    (flags.recursionDesired ? FLAG.recursionDesired : 0) |
    (flags.recursionAvailable ? FLAG.recursionAvailable : 0) |
    (flags.broadcast ? FLAG.broadcast : 0) |
    packet.rcode;
  const writer = new ByteWriter()
    .u16be(packet.id)
    .u16be(bits)
    .u16be(packet.questions.length)
    .u16be(packet.answers.length)
    .u16be(packet.authorities.length)
    .u16be(packet.additionals.length);
  for (const question of packet.questions) writer.bytes(encodeNetbiosName(question.name)).u16be(question.type).u16be(question.class);
  for (const record of [...packet.answers, ...packet.authorities, ...packet.additionals]) {
    const data = encodeRecordData(record.data);
    writer.bytes(encodeNetbiosName(record.name)).u16be(record.type).u16be(record.class).u32be(record.ttl).u16be(data.length).bytes(data);
  }
  if (writer.length > MAX_NBNS_PACKET) throw new EncodeError(`A name service packet of ${writer.length} bytes is over ${MAX_NBNS_PACKET}`);
  return writer.toBytes();
}

function encodeRecordData(data: RecordData): Uint8Array {
  const writer = new ByteWriter();
  switch (data.kind) {
    case 'wack':
      writer.u16be(data.requestFlags);
      break;
    case 'nb':
      for (const entry of data.entries) {
        writer.u16be((entry.group ? 0x8000 : 0) | (NODE_TYPES.indexOf(entry.nodeType) << 13));
        for (const octet of ipv4Octets(entry.address)) writer.u8(octet);
      }
      break;
    case 'nodeStatus':
      if (data.names.length > 255) throw new EncodeError('A node status answer lists at most 255 names');
      writer.u8(data.names.length);
      for (const entry of data.names) writer.bytes(rawNameBytes(entry)).u16be(entry.flags);
      writer.bytes(data.statistics);
      break;
    case 'raw':
      writer.bytes(data.bytes);
      break;
  }
  return writer.toBytes();
}

function ipv4Octets(address: string): number[] {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new EncodeError(`${JSON.stringify(address)} is not an IPv4 address`);
  return octets;
}
