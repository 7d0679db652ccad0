export { DECODE_ERROR, ENCODE_ERROR, DecodeError, EncodeError } from './errors.js';
export type { DecodeErrorCode, EncodeErrorCode } from './errors.js';
export { ByteReader } from './reader.js';
export { ByteWriter } from './writer.js';
