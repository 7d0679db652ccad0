export {
  NBNS_OPCODE, NBNS_RCODE, RR_TYPE, RR_CLASS_IN, NBNS_PORT, MAX_NBNS_PACKET, MAX_RECORDS_PER_SECTION, MAX_NB_ENTRIES,
  decodeNbnsPacket, encodeNbnsPacket,
} from './packet.js';
export type { NbnsPacket, NbnsQuestion, NbnsRecord, NbnsFlags, NbEntry, NodeStatusName, NodeType, RecordData } from './packet.js';
