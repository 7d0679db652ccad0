/**
 * The message commands ([MS-MSRP] §2.2.3: single-block SEND_MESSAGE; multi-block
 * SEND_START_MB_MESSAGE, SEND_TEXT_MB_MESSAGE, SEND_END_MB_MESSAGE) and the NEGOTIATE before
 * them, as requests and replies. The header and blocks they share are in header.ts.
 */
import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, ENCODE_ERROR, EncodeError } from '../bytes/index.js';
import {
  MAX_DIALECTS,
  MAX_DIALECT_LENGTH,
  MAX_NAME_FIELD,
  SMB_COMMAND,
  SMB_FLAGS_REPLY,
  type DosError,
} from './constants.js';
import { decodeBlocks, decodeHeader, writeBlocks, writeData, writeHeader, writeWords, type SmbHeader, type SmbStatus } from './header.js';

/** The message commands and NEGOTIATE, without their header. Names and text are OEM bytes. */
export type SmbRequestBody =
  | { readonly command: typeof SMB_COMMAND.negotiate; readonly dialects: readonly string[] }
  | { readonly command: typeof SMB_COMMAND.sendMessage; readonly originator: Uint8Array; readonly destination: Uint8Array; readonly text: Uint8Array }
  | { readonly command: typeof SMB_COMMAND.sendStartMbMessage; readonly originator: Uint8Array; readonly destination: Uint8Array }
  | { readonly command: typeof SMB_COMMAND.sendTextMbMessage; readonly groupId: number; readonly text: Uint8Array }
  | { readonly command: typeof SMB_COMMAND.sendEndMbMessage; readonly groupId: number };

export type SmbRequest =
  | (SmbRequestBody & { readonly header: SmbHeader })
  | { readonly command: 'unknown'; readonly header: SmbHeader };

/** What a server answers; the header is echoed from the request. */
export type SmbResponseBody =
  | { readonly kind: 'ok' }
  | { readonly kind: 'groupId'; readonly groupId: number }
  /** `systemTime` goes in the NT LM 0.12 reply (the clock when left out). */
  | { readonly kind: 'negotiate'; readonly dialectIndex: number; readonly systemTime?: Date }
  | { readonly kind: 'error'; readonly error: DosError };

/** A reply as a client reads it. */
export interface SmbResponse {
  readonly header: SmbHeader;
  readonly status: SmbStatus;
  /** SEND_START_MB_MESSAGE: the group id, or undefined when the server sent none (smbd: wc 0). */
  readonly groupId: number | undefined;
  /** NEGOTIATE: the chosen dialect's index, 0xFFFF for none. */
  readonly dialectIndex: number | undefined;
}

const BUFFER_FORMAT = { dataBlock: 0x01, dialect: 0x02, ascii: 0x04 } as const;

function needWords(words: number[], count: number, command: number, at: number): void {
  if (words.length !== count) {
    throw new DecodeError(DECODE_ERROR.badValue, `command 0x${command.toString(16)} has WordCount ${words.length}, expected ${count}`, at);
  }
}

// ---------------------------------------------------------------- requests

/**
 * Decodes a request a client sent. Commands netsend does not speak come back as
 * `{ command: 'unknown' }` so the server can answer them with an error.
 */
export function decodeSmbRequest(payload: Uint8Array): SmbRequest {
  const reader = new ByteReader(payload);
  const header = decodeHeader(reader);
  if (header.flags & SMB_FLAGS_REPLY) throw new DecodeError(DECODE_ERROR.badValue, 'a reply was sent where a request belongs', 9);
  const blocksAt = reader.offset;
  const { words, bytes } = decodeBlocks(reader);
  // The data bytes read in place, so that error offsets count from the header's first byte
  const data = new ByteReader(payload.subarray(0, reader.offset), reader.offset - bytes.length);
  // WordCount per command: [MS-CIFS] §2.2.4.52.1, [MS-MSRP] §2.2.3.1.1-§2.2.3.4.1
  switch (header.command) {
    case SMB_COMMAND.negotiate: {
      needWords(words, 0, header.command, blocksAt);
      const dialects: string[] = [];
      while (data.remaining > 0) {
        if (dialects.length >= MAX_DIALECTS) throw new DecodeError(DECODE_ERROR.tooLong, `more than ${MAX_DIALECTS} dialects`, data.offset);
        data.expect(BUFFER_FORMAT.dialect, data.u8(), 'a dialect buffer format');
        dialects.push(Buffer.from(data.cstring(MAX_DIALECT_LENGTH, 'a dialect name')).toString('latin1'));
      }
      return { command: SMB_COMMAND.negotiate, dialects, header };
    }
    case SMB_COMMAND.sendMessage: {
      needWords(words, 0, header.command, blocksAt);
      const { originator, destination } = readNames(data);
      const text = readDataBlock(data);
      return { command: SMB_COMMAND.sendMessage, originator, destination, text, header };
    }
    case SMB_COMMAND.sendStartMbMessage: {
      needWords(words, 0, header.command, blocksAt);
      return { command: SMB_COMMAND.sendStartMbMessage, ...readNames(data), header };
    }
    case SMB_COMMAND.sendTextMbMessage: {
      needWords(words, 1, header.command, blocksAt);
      return { command: SMB_COMMAND.sendTextMbMessage, groupId: words[0] as number, text: readDataBlock(data), header };
    }
    case SMB_COMMAND.sendEndMbMessage: {
      needWords(words, 1, header.command, blocksAt);
      return { command: SMB_COMMAND.sendEndMbMessage, groupId: words[0] as number, header };
    }
    default:
      return { command: 'unknown', header };
  }
}

/** [MS-MSRP] §2.2.3.1.1, §2.2.3.2.1: 0x04 and a NUL-terminated name, twice. */
function readNames(data: ByteReader): { originator: Uint8Array; destination: Uint8Array } {
  data.expect(BUFFER_FORMAT.ascii, data.u8(), 'the originator buffer format');
  const originator = data.cstring(MAX_NAME_FIELD, 'the originator name');
  data.expect(BUFFER_FORMAT.ascii, data.u8(), 'the destination buffer format');
  const destination = data.cstring(MAX_NAME_FIELD, 'the destination name');
  return { originator, destination };
}

/** [MS-MSRP] §2.2.3.1.1, §2.2.3.3.1: 0x01, a 16-bit length, that many bytes within ByteCount. */
function readDataBlock(data: ByteReader): Uint8Array {
  data.expect(BUFFER_FORMAT.dataBlock, data.u8(), 'the text buffer format');
  const length = data.u16le();
  return data.bytes(length, 'the message text');
}

/** A client's request, with a fresh header: no flags, tid and uid 0, as smbclient sends them. */
export function encodeSmbRequest(request: SmbRequestBody, ids: { mid: number; pid: number }): Uint8Array {
  const writer = new ByteWriter();
  writeHeader(writer, {
    command: request.command,
    status: { kind: 'success' },
    flags: 0,
    flags2: 0,
    pidHigh: (ids.pid >>> 16) & 0xffff,
    tid: 0,
    pidLow: ids.pid & 0xffff,
    uid: 0,
    mid: ids.mid & 0xffff,
  });
  const names = (originator: Uint8Array, destination: Uint8Array) => {
    checkName(originator, 'originator');
    checkName(destination, 'destination');
    writer.u8(BUFFER_FORMAT.ascii).bytes(originator).u8(0).u8(BUFFER_FORMAT.ascii).bytes(destination).u8(0);
  };
  const text = (bytes: Uint8Array) => {
    if (bytes.byteLength > 0xffff) throw new EncodeError(`A text block of ${bytes.byteLength} bytes does not fit 16 bits`, ENCODE_ERROR.tooLong);
    writer.u8(BUFFER_FORMAT.dataBlock).u16le(bytes.byteLength).bytes(bytes);
  };
  // [MS-MSRP] §2.2.3.3.1, §2.2.3.4.1: text and end blocks carry the group id as their one word
  writeWords(writer, 'groupId' in request ? [request.groupId] : []);
  writeData(writer, () => {
    switch (request.command) {
      case SMB_COMMAND.negotiate:
        for (const dialect of request.dialects) {
          if (dialect.length > MAX_DIALECT_LENGTH || /[^\u0001-\u00ff]/.test(dialect)) throw new EncodeError(`Dialect ${JSON.stringify(dialect)} is not 0-${MAX_DIALECT_LENGTH} bytes without NUL`);
          writer.u8(BUFFER_FORMAT.dialect).bytes(Buffer.from(dialect, 'latin1')).u8(0);
        }
        break;
      case SMB_COMMAND.sendMessage:
        names(request.originator, request.destination);
        text(request.text);
        break;
      case SMB_COMMAND.sendStartMbMessage:
        names(request.originator, request.destination);
        break;
      case SMB_COMMAND.sendTextMbMessage:
        text(request.text);
        break;
      case SMB_COMMAND.sendEndMbMessage:
        break;
    }
  });
  return writer.toBytes();
}

function checkName(name: Uint8Array, what: string): void {
  if (name.byteLength > MAX_NAME_FIELD || name.includes(0)) throw new EncodeError(`The ${what} name is not 0-${MAX_NAME_FIELD} bytes without NUL`);
}

// ---------------------------------------------------------------- responses

/**
 * A server's answer to `request`: its header echoed (tid, pid, uid, mid) with the reply flag,
 * DOS-style status, and the body.
 */
export function encodeSmbResponse(request: SmbRequest, body: SmbResponseBody): Uint8Array {
  const { header } = request;
  const writer = new ByteWriter();
  writeHeader(writer, {
    ...header,
    status: body.kind === 'error' ? { kind: 'dos', ...body.error } : { kind: 'success' },
    flags: SMB_FLAGS_REPLY,
    flags2: 0,
  });
  switch (body.kind) {
    case 'ok':
    case 'error':
      writeBlocks(writer, [], new Uint8Array(0));
      break;
    case 'groupId':
      writeBlocks(writer, [body.groupId], new Uint8Array(0));
      break;
    case 'negotiate':
      if (body.dialectIndex === 0xffff) writeBlocks(writer, [0xffff], new Uint8Array(0));
      else writeNegotiateResponse(writer, body.dialectIndex, body.systemTime ?? new Date());
      break;
  }
  return writer.toBytes();
}

/** 1970-01-01 in FILETIME units (100 ns since 1601-01-01), and 1601-01-01 in Unix milliseconds. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
const FILETIME_START_MS = -11_644_473_600_000;

/**
 * The NT LM 0.12 NEGOTIATE response ([MS-CIFS] §2.2.4.52.2, WordCount 17) with what a message
 * server needs: share-level security, no challenge, no capabilities (so DOS errors and OEM text).
 */
function writeNegotiateResponse(writer: ByteWriter, dialectIndex: number, systemTime: Date): void {
  const ms = systemTime.getTime();
  if (!Number.isFinite(ms) || ms < FILETIME_START_MS) throw new EncodeError(`The system time ${ms} is not a FILETIME (1601 on)`);
  const filetime = BigInt(ms) * 10_000n + FILETIME_UNIX_EPOCH;
  writer
    .u8(17) // WordCount
    .u16le(dialectIndex)
    .u8(0) // SecurityMode: share level, plaintext
    .u16le(1) // MaxMpxCount
    .u16le(1) // MaxNumberVcs
    .u32le(0x10000) // MaxBufferSize: 64 KiB, under the framer's limit
    .u32le(0) // MaxRawSize
    .u32le(0) // SessionKey
    .u32le(0) // Capabilities
    .u32le(Number(filetime & 0xffffffffn)) // SystemTime, low then high
    .u32le(Number(filetime >> 32n))
    .u16le(0) // ServerTimeZone
    .u8(0); // ChallengeLength
  // Bytes: no challenge, an empty OEM domain name
  writeData(writer, () => writer.u8(0));
}

/**
 * Decodes a server's reply to a request of command `expected`.
 * @throws DecodeError when it is not a reply, or not to that command
 */
export function decodeSmbResponse(payload: Uint8Array, expected: number): SmbResponse {
  const reader = new ByteReader(payload);
  const header = decodeHeader(reader);
  if (!(header.flags & SMB_FLAGS_REPLY)) throw new DecodeError(DECODE_ERROR.badValue, 'a request came where a reply belongs', 9);
  if (header.command !== expected) {
    throw new DecodeError(DECODE_ERROR.badValue, `a reply to command 0x${header.command.toString(16)} came for 0x${expected.toString(16)}`, 4);
  }
  // Error replies may carry no parameter block at all.
  const { words } = reader.remaining === 0 ? { words: [] as number[] } : decodeBlocks(reader);
  return {
    header,
    status: header.status,
    groupId: expected === SMB_COMMAND.sendStartMbMessage ? words[0] : undefined,
    dialectIndex: expected === SMB_COMMAND.negotiate ? words[0] : undefined,
  };
}
