export {
  SMB_COMMAND, SMB_HEADER_SIZE, SMB_FLAGS_REPLY, SMB_FLAGS2_NT_STATUS, ERROR_CLASS, DOS_ERROR, MAX_SINGLE_BLOCK_TEXT,
  MB_TEXT_BLOCK, MAX_NAME_FIELD, MAX_DIALECT_LENGTH, MAX_DIALECTS,
} from './constants.js';
export type { SmbCommand, DosError } from './constants.js';
export { decodeSmbMessage, encodeSmbMessage } from './header.js';
export type { SmbHeader, SmbMessage, SmbStatus } from './header.js';
export { decodeSmbRequest, encodeSmbRequest, encodeSmbResponse, decodeSmbResponse } from './messages.js';
export type { SmbRequestBody, SmbRequest, SmbResponseBody, SmbResponse } from './messages.js';
export { decodeOem, encodeOem, fitsOem, oemCharsetKnown, toCrlf, fromCrlf } from './oem.js';
