export { SUFFIX, MAX_NAME_CHARS, MAX_ENCODED_NAME, MAX_LABEL, encodeNetbiosName, decodeNetbiosName, toWireName, formatNetbiosName, rawNameValue, rawNameBytes } from './name.js';
export type { NetbiosName, DecodeNameOptions } from './name.js';
