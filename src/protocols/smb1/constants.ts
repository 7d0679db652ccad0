/** The SMB1 commands netsend speaks ([MS-CIFS] §2.2.2.1). */
export const SMB_COMMAND = {
  negotiate: 0x72,
  sendMessage: 0xd0,
  sendStartMbMessage: 0xd5,
  sendEndMbMessage: 0xd6,
  sendTextMbMessage: 0xd7,
} as const;

export type SmbCommand = (typeof SMB_COMMAND)[keyof typeof SMB_COMMAND];

/** [MS-CIFS] §2.2.3.1 */
export const SMB_HEADER_SIZE = 32;
export const SMB_FLAGS_REPLY = 0x80;
export const SMB_FLAGS2_NT_STATUS = 0x4000;

/** Error classes of DOS-style status ([MS-CIFS] §2.2.2.4). */
export const ERROR_CLASS = { dos: 0x01, server: 0x02 } as const;

/**
 * The DOS errors netsend sends or expects ([MS-CIFS] §2.2.2.4). Without a session setup no NT
 * status is negotiated, so replies carry class/code pairs, as smbd's do (PEERS.md §3).
 *
 * | name | class/code | meaning here |
 * | --- | --- | --- |
 * | badFunction | ERRDOS/1 ERRbadfunc | a command this server knows but does not serve |
 * | accessDenied | ERRDOS/5 ERRnoaccess | the sender may not send here |
 * | notEnoughMemory | ERRDOS/8 ERRnomem | smbd's answer to an empty first text block |
 * | requestNotAccepted | ERRDOS/71 ERROR_REQ_NOT_ACCEP | smbd's answer to D5 and D0 when messaging is off; smbclient shows NT_STATUS_REQUEST_NOT_ACCEPTED |
 * | invalidParameter | ERRDOS/87 ERROR_INVALID_PARAMETER | a text or end block for a group that is not open (smbd's answer too) |
 * | serverError | ERRSRV/1 ERRerror | the server failed (storing the message did not work) |
 * | unknownCommand | ERRSRV/64 ERRsmbcmd | a command this server does not recognise |
 * | paused | ERRSRV/81 ERRpaused | the message server is paused |
 * | messageServerOff | ERRSRV/82 ERRmsgoff | no message server for that name: the recipient is not an alias here |
 * | noRoom | ERRSRV/83 ERRnoroom | no room to buffer the message (over the size limit) |
 * | noResources | ERRSRV/89 ERRnoresource | too many messages in progress on the session |
 */
export const DOS_ERROR = {
  badFunction: { errorClass: ERROR_CLASS.dos, code: 1 },
  accessDenied: { errorClass: ERROR_CLASS.dos, code: 5 },
  notEnoughMemory: { errorClass: ERROR_CLASS.dos, code: 8 },
  requestNotAccepted: { errorClass: ERROR_CLASS.dos, code: 71 },
  invalidParameter: { errorClass: ERROR_CLASS.dos, code: 87 },
  serverError: { errorClass: ERROR_CLASS.server, code: 1 },
  unknownCommand: { errorClass: ERROR_CLASS.server, code: 64 },
  paused: { errorClass: ERROR_CLASS.server, code: 81 },
  messageServerOff: { errorClass: ERROR_CLASS.server, code: 82 },
  noRoom: { errorClass: ERROR_CLASS.server, code: 83 },
  noResources: { errorClass: ERROR_CLASS.server, code: 89 },
} as const;

export interface DosError {
  readonly errorClass: number;
  readonly code: number;
}

/**
 * [MS-MSRP] §2.2.3.1.1 and §3.2.4.4: a text of at most 128 bytes goes as one SEND_MESSAGE,
 * a longer one as a multi-block message. A sending rule: receivers take longer single blocks
 * (smbd took 4,000 bytes, PEERS.md §3), bounded by ByteCount and the frame limit.
 */
export const MAX_SINGLE_BLOCK_TEXT = 128;
/**
 * The text block size of SMB_COM_SEND_TEXT_MB_MESSAGE that smbclient uses (PEERS.md
 * §2: 12 × 127 + 74 for a 1,598-byte text). Larger blocks are valid: smbd took 1,000-byte ones.
 */
export const MB_TEXT_BLOCK = 127;
/**
 * Originator and destination fields: NetBIOS names are 15 bytes and smbclient sends the user
 * name here (PEERS.md §2); 128 leaves room for both and bounds hostile input.
 */
export const MAX_NAME_FIELD = 128;
/** Dialect strings of a NEGOTIATE request, and how many: bounds on hostile input. */
export const MAX_DIALECT_LENGTH = 64;
export const MAX_DIALECTS = 32;
