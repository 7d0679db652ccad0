export { NBSS_TYPE, NBSS_PORT, NEGATIVE_RESPONSE, NBSS_HEADER, MAX_NBSS_BODY, encodeNbssPacket, decodeNbssPacket, readNbssHeader } from './packet.js';
export type { NbssPacket, NbssType, NegativeResponseCode } from './packet.js';
export { NbssFramer, DEFAULT_MAX_FRAME } from './framer.js';
