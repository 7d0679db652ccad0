/**
 * What every SMB1 message has ([MS-CIFS] §2.2.3): the 32-byte header, the parameter words
 * (WordCount) and the data bytes (ByteCount), and any message read or written as just those.
 * The message commands built on them are in messages.ts.
 */
import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, ENCODE_ERROR, EncodeError } from '../bytes/index.js';
import { SMB_FLAGS2_NT_STATUS } from './constants.js';

/** [MS-CIFS] §2.2.3.1 */
export interface SmbHeader {
  readonly command: number;
  readonly status: SmbStatus;
  readonly flags: number;
  readonly flags2: number;
  readonly pidHigh: number;
  readonly securityFeatures: Uint8Array;
  readonly tid: number;
  readonly pidLow: number;
  readonly uid: number;
  readonly mid: number;
}

export type SmbStatus =
  | { readonly kind: 'success' }
  | { readonly kind: 'dos'; readonly errorClass: number; readonly code: number }
  | { readonly kind: 'nt'; readonly code: number };

export function decodeHeader(reader: ByteReader): SmbHeader {
  const start = reader.offset;
  const magic = reader.bytes(4, 'the SMB protocol id');
  if (magic[0] !== 0xff || magic[1] !== 0x53 || magic[2] !== 0x4d || magic[3] !== 0x42) {
    throw new DecodeError(DECODE_ERROR.badValue, 'the message does not start with 0xFF "SMB"', start);
  }
  const command = reader.u8();
  const statusBytes = reader.bytes(4, 'the status');
  const flags = reader.u8();
  const flags2 = reader.u16le();
  const pidHigh = reader.u16le();
  const securityFeatures = reader.bytes(8, 'the security features');
  reader.u16le(); // reserved
  const tid = reader.u16le();
  const pidLow = reader.u16le();
  const uid = reader.u16le();
  const mid = reader.u16le();
  // one little-endian word: an NT status, or a DOS error class (low byte), a reserved byte and its code (high half)
  const statusWord = new ByteReader(statusBytes).u32le();
  let status: SmbStatus;
  if (flags2 & SMB_FLAGS2_NT_STATUS) {
    status = statusWord === 0 ? { kind: 'success' } : { kind: 'nt', code: statusWord };
  } else {
    const errorClass = statusWord & 0xff;
    const code = statusWord >>> 16;
    status = errorClass === 0 && code === 0 ? { kind: 'success' } : { kind: 'dos', errorClass, code };
  }
  return { command, status, flags, flags2, pidHigh, securityFeatures, tid, pidLow, uid, mid };
}

export function writeHeader(writer: ByteWriter, header: Omit<SmbHeader, 'securityFeatures'>): void {
  writer.u8(0xff).u8(0x53).u8(0x4d).u8(0x42).u8(header.command);
  const { status } = header;
  if (status.kind === 'nt') writer.u32le(status.code);
  else if (status.kind === 'dos') writer.u8(status.errorClass).u8(0).u16le(status.code);
  else writer.u32le(0);
  writer.u8(header.flags).u16le(header.flags2).u16le(header.pidHigh);
  for (let i = 0; i < 8; i++) writer.u8(0); // security features: no signing
  writer.u16le(0).u16le(header.tid).u16le(header.pidLow).u16le(header.uid).u16le(header.mid);
}

/** WordCount + words, ByteCount + bytes ([MS-CIFS] §2.2.3.2, §2.2.3.3), bounds-checked. */
export function decodeBlocks(reader: ByteReader): { words: number[]; bytes: Uint8Array } {
  const wordCount = reader.u8();
  // The words and the ByteCount after them must fit before any is read
  if (2 * wordCount + 2 > reader.remaining) {
    throw new DecodeError(DECODE_ERROR.truncated, `WordCount ${wordCount} needs ${2 * wordCount + 2} bytes, ${reader.remaining} left`, reader.offset - 1);
  }
  const words: number[] = [];
  for (let i = 0; i < wordCount; i++) words.push(reader.u16le());
  const at = reader.offset;
  const byteCount = reader.u16le();
  if (byteCount > reader.remaining) {
    throw new DecodeError(DECODE_ERROR.truncated, `ByteCount ${byteCount} is past the end (${reader.remaining} bytes left)`, at);
  }
  return { words, bytes: reader.bytes(byteCount) };
}

export function writeBlocks(writer: ByteWriter, words: readonly number[], bytes: Uint8Array): void {
  writeWords(writer, words);
  writeData(writer, () => writer.bytes(bytes));
}

export function writeWords(writer: ByteWriter, words: readonly number[]): void {
  if (words.length > 0xff) throw new EncodeError(`WordCount ${words.length} does not fit a byte`, ENCODE_ERROR.tooLong);
  writer.u8(words.length);
  for (const word of words) writer.u16le(word);
}

/** ByteCount and the data bytes `write` puts after it; the count is filled in afterwards. */
export function writeData(writer: ByteWriter, write: () => void): void {
  const countAt = writer.reserve(2);
  write();
  const count = writer.length - countAt - 2;
  if (count > 0xffff) throw new EncodeError(`ByteCount ${count} does not fit 16 bits`, ENCODE_ERROR.tooLong);
  writer.patchU16le(countAt, count);
}

/** Any SMB1 message: its header, parameter words and data bytes (for commands beyond messaging). */
export interface SmbMessage {
  readonly header: SmbHeader;
  readonly words: readonly number[];
  readonly bytes: Uint8Array;
  /** Where `bytes` starts, counted from the header's first byte (SMB offsets are counted so). */
  readonly bytesOffset: number;
}

export function decodeSmbMessage(payload: Uint8Array): SmbMessage {
  const reader = new ByteReader(payload);
  const header = decodeHeader(reader);
  const { words, bytes } = decodeBlocks(reader);
  return { header, words, bytes, bytesOffset: reader.offset - bytes.length };
}

export function encodeSmbMessage(header: Omit<SmbHeader, 'securityFeatures'>, words: readonly number[], bytes: Uint8Array): Uint8Array {
  const writer = new ByteWriter();
  writeHeader(writer, header);
  writeBlocks(writer, words, bytes);
  return writer.toBytes();
}

