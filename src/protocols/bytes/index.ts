export { DECODE_ERROR, DecodeError, EncodeError } from './errors.js';
export type { DecodeErrorCode } from './errors.js';
export { ByteReader } from './reader.js';
export { ByteWriter } from './writer.js';
