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
 * The DOS errors netsend answers with ([MS-CIFS] §2.2.2.4). Without a session setup no NT status
 * was negotiated, so replies carry class/code pairs, as smbd's do.
 */
export const DOS_ERROR = {
  /** ERRSRV/ERRerror: the server failed (storing the message did not work). */
  serverError: { errorClass: ERROR_CLASS.server, code: 1 },
  /** ERRSRV/ERRsmbcmd: a command this server does not recognise. */
  unknownCommand: { errorClass: ERROR_CLASS.server, code: 64 },
  /** ERRSRV/ERRpaused: the message server is paused. */
  paused: { errorClass: ERROR_CLASS.server, code: 81 },
  /** ERRSRV/ERRmsgoff: no message server for that name (the recipient is not an alias here). */
  messageServerOff: { errorClass: ERROR_CLASS.server, code: 82 },
  /** ERRSRV/ERRnoroom: no room to buffer the message (over the size limit). */
  noRoom: { errorClass: ERROR_CLASS.server, code: 83 },
  /** ERRSRV/ERRnoresource: too many messages in progress on the session. */
  noResources: { errorClass: ERROR_CLASS.server, code: 89 },
  /** ERRDOS/ERROR_INVALID_PARAMETER: a text or end block for a group that is not open (smbd's answer too). */
  invalidParameter: { errorClass: ERROR_CLASS.dos, code: 87 },
} as const;

export interface DosError {
  readonly errorClass: number;
  readonly code: number;
}

/**
 * [MS-CIFS] §2.2.4.34.1 (SMB_COM_SEND_MESSAGE): the text of a single-block message is at most
 * 128 bytes; longer texts go as a multi-block message.
 */
export const MAX_SINGLE_BLOCK_TEXT = 128;
/** The text block size of SMB_COM_SEND_TEXT_MB_MESSAGE that Windows and smbclient use. */
export const MB_TEXT_BLOCK = 127;
/** Originator and destination fields: NetBIOS names are 15 bytes; allow user names, bound hostile input. */
export const MAX_NAME_FIELD = 128;
/** Dialect strings of a NEGOTIATE request, and how many. */
export const MAX_DIALECT_LENGTH = 64;
export const MAX_DIALECTS = 32;
