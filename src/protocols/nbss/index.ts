export { NBSS_TYPE, NBSS_PORT, NEGATIVE_RESPONSE, NBSS_HEADER, MAX_NBSS_BODY, encodeNbssPacket, decodeNbssPacket, declaredBodyLength } from './packet.js';
export type { NbssPacket } from './packet.js';
export { NbssFramer, DEFAULT_MAX_FRAME } from './framer.js';
