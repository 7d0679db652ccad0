import { ByteReader, DECODE_ERROR, DecodeError, EncodeError } from '../bytes/index.js';
import { decodeSmbMessage, encodeSmbMessage } from '../smb1/index.js';

/** SMB_COM_TRANSACTION ([MS-CIFS] §2.2.4.33) and the mailslot write inside it ([MS-MAIL] §2.2.1). */
export const SMB_COM_TRANSACTION = 0x25;
export const MAILSLOT_WRITE = 0x0001;
/** [MS-MAIL] §2.2.1: class 2, unreliable and broadcast, as Samba and Windows send datagrams. */
export const MAILSLOT_CLASS_UNRELIABLE = 2;
/** The Messenger service's mailslot. */
export const MESSENGER_MAILSLOT = '\\MAILSLOT\\MESSNGR';
/** Mailslot names are short paths; refuse anything longer than this. */
export const MAX_MAILSLOT_NAME = 64;

const TRANSACTION_WORDS = 14;

export interface MailslotWrite {
  readonly mailslot: string;
  readonly priority: number;
  readonly mailslotClass: number;
  readonly data: Uint8Array;
}

/** The SMB transaction a datagram carries, as Samba's cli_prep_mailslot writes it. */
export function encodeMailslotWrite(write: MailslotWrite): Uint8Array {
  if (write.mailslot.length > MAX_MAILSLOT_NAME || /[^\u0020-\u007e]/.test(write.mailslot)) throw new EncodeError('A mailslot name is printable ASCII, at most 64 characters');
  const name = Buffer.from(`${write.mailslot}\0`, 'latin1');
  const setup = [MAILSLOT_WRITE, write.priority, write.mailslotClass];
  // The data follows the name: header 32 + WordCount 1 + words + ByteCount 2 + name
  const dataOffset = 32 + 1 + (TRANSACTION_WORDS + setup.length) * 2 + 2 + name.length;
  const words = [
    0, write.data.length, // TotalParameterCount, TotalDataCount
    0, 0, // MaxParameterCount, MaxDataCount
    0, // MaxSetupCount (byte) + Reserved1 (byte)
    0, // Flags
    0, 0, // Timeout (32 bits)
    0, // Reserved2
    0, 0, // ParameterCount, ParameterOffset
    write.data.length, dataOffset,
    setup.length, // SetupCount (byte) + Reserved3 (byte)
    ...setup,
  ];
  const header = { command: SMB_COM_TRANSACTION, status: { kind: 'success' as const }, flags: 0, flags2: 0, pidHigh: 0, tid: 0, pidLow: 0, uid: 0, mid: 0 };
  return encodeSmbMessage(header, words, Buffer.concat([name, write.data]));
}

/** The mailslot write in a datagram's user data; every count and offset is checked. */
export function decodeMailslotWrite(userData: Uint8Array): MailslotWrite {
  const message = decodeSmbMessage(userData);
  if (message.header.command !== SMB_COM_TRANSACTION) {
    throw new DecodeError(DECODE_ERROR.badValue, `command 0x${message.header.command.toString(16)} is not a transaction`, 4);
  }
  const { words } = message;
  const setupCount = (words[13] ?? 0) & 0xff;
  if (words.length < TRANSACTION_WORDS || words.length !== TRANSACTION_WORDS + setupCount || setupCount < 3) {
    throw new DecodeError(DECODE_ERROR.badValue, `a mailslot transaction has ${words.length} words and ${setupCount} setup words`, 32);
  }
  if (words[14] !== MAILSLOT_WRITE) throw new DecodeError(DECODE_ERROR.badValue, `setup opcode ${words[14]} is not a mailslot write`, 32);
  const dataCount = words[11] as number;
  const dataOffset = words[12] as number;
  const reader = new ByteReader(message.bytes);
  const mailslot = Buffer.from(reader.cstring(MAX_MAILSLOT_NAME, 'the mailslot name')).toString('latin1');
  const start = dataOffset - message.bytesOffset;
  if (start < reader.offset || start + dataCount > message.bytes.length) {
    throw new DecodeError(DECODE_ERROR.tooLong, `data at ${dataOffset} (+${dataCount}) lies outside the message`, 32);
  }
  return { mailslot, priority: words[15] as number, mailslotClass: words[16] as number, data: message.bytes.subarray(start, start + dataCount) };
}

/** The Messenger's mailslot payload: sender, recipient and text, each OEM and NUL-terminated. */
export interface MessengerPayload {
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly text: Uint8Array;
}

/** Names in the payload are NetBIOS names or user names; refuse longer ones. */
export const MAX_PAYLOAD_NAME = 128;

export function encodeMessengerPayload(payload: MessengerPayload): Uint8Array {
  for (const [what, field] of [['from', payload.from], ['to', payload.to], ['text', payload.text]] as const) {
    if (field.includes(0)) throw new EncodeError(`The ${what} field holds a NUL`);
  }
  return Buffer.concat([payload.from, Uint8Array.of(0), payload.to, Uint8Array.of(0), payload.text, Uint8Array.of(0)]);
}

/** Tolerant of a text without its final NUL, as senders vary; names must be terminated. */
export function decodeMessengerPayload(data: Uint8Array): MessengerPayload {
  const reader = new ByteReader(data);
  const from = reader.cstring(MAX_PAYLOAD_NAME, 'the sender');
  const to = reader.cstring(MAX_PAYLOAD_NAME, 'the recipient');
  const rest = reader.bytes(reader.remaining);
  const end = rest.indexOf(0);
  return { from, to, text: end < 0 ? rest : rest.subarray(0, end) };
}
