export { SUFFIX, MAX_ENCODED_NAME, MAX_LABEL, encodeNetbiosName, decodeNetbiosName, formatNetbiosName, rawNameValue, rawNameBytes } from './name.js';
export type { NetbiosName, DecodeNameOptions } from './name.js';
