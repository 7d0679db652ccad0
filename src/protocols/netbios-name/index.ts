export { SUFFIX, MAX_ENCODED_NAME, MAX_LABEL, encodeNetbiosName, decodeNetbiosName, formatNetbiosName } from './name.js';
export type { NetbiosName } from './name.js';
