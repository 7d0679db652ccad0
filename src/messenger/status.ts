/**
 * NET_API_STATUS: the numbers the original netapi32 returned (lmerr.h / winerror.h), with the
 * message text users saw. The registry is the single source for names, numbers and words; the
 * docs table (docs/status-codes.md) is generated from it by a test.
 */
export const STATUS = {
  NERR_Success: { code: 0, message: 'The command completed successfully.' },
  ERROR_ACCESS_DENIED: { code: 5, message: 'Access is denied.' },
  ERROR_NOT_ENOUGH_MEMORY: { code: 8, message: 'Not enough storage is available to process this command.' },
  ERROR_NOT_SUPPORTED: { code: 50, message: 'The request is not supported.' },
  ERROR_INVALID_PARAMETER: { code: 87, message: 'The parameter is incorrect.' },
  ERROR_INVALID_NAME: { code: 123, message: 'The filename, directory name, or volume label syntax is incorrect.' },
  ERROR_INVALID_LEVEL: { code: 124, message: 'The system call level is not correct.' },
  ERROR_MORE_DATA: { code: 234, message: 'More data is available.' },
  ERROR_NOT_FOUND: { code: 1168, message: 'Element not found.' },
  NERR_BufTooSmall: { code: 2123, message: 'The API return buffer is too small.' },
  NERR_NetworkError: { code: 2136, message: 'A general network error occurred.' },
  NERR_InternalError: { code: 2140, message: 'An internal error occurred.' },
  NERR_UserNotFound: { code: 2221, message: 'The user name could not be found.' },
  NERR_UserExists: { code: 2224, message: 'The account already exists.' },
  NERR_NoComputerName: { code: 2270, message: 'The computer name could not be added as a message alias. The name may already exist on the network.' },
  NERR_MsgAlreadyStarted: { code: 2271, message: 'The Messenger service is already started.' },
  NERR_MsgInitFailed: { code: 2272, message: 'The Messenger service failed to start.' },
  NERR_NameNotFound: { code: 2273, message: 'The message alias could not be found on the network.' },
  NERR_AlreadyForwarded: { code: 2274, message: 'This message alias has already been forwarded.' },
  NERR_AddForwarded: { code: 2275, message: 'This message alias has been added but is still forwarded.' },
  NERR_AlreadyExists: { code: 2276, message: 'This message alias already exists locally.' },
  NERR_TooManyNames: { code: 2277, message: 'The maximum number of added message aliases has been exceeded.' },
  NERR_DelComputerName: { code: 2278, message: 'The computer name could not be deleted.' },
  NERR_LocalForward: { code: 2279, message: 'Messages cannot be forwarded back to the same workstation.' },
  NERR_GrpMsgProcessor: { code: 2280, message: 'An error occurred in the domain message processor.' },
  NERR_PausedRemote: { code: 2281, message: 'The message was sent, but the recipient has paused the Messenger service.' },
  NERR_BadReceive: { code: 2282, message: 'The message was sent but not received.' },
  NERR_NameInUse: { code: 2283, message: 'The message alias is currently in use. Try again later.' },
  NERR_MsgNotStarted: { code: 2284, message: 'The Messenger service has not been started.' },
  NERR_NotLocalName: { code: 2285, message: 'The name is not on the local computer.' },
  NERR_TruncatedBroadcast: { code: 2289, message: 'The broadcast message was truncated.' },
  NERR_DuplicateName: { code: 2297, message: 'The name already exists on the network.' },
  NERR_IncompleteDel: { code: 2299, message: 'The message alias was not successfully deleted from all networks.' },
} as const satisfies Record<string, { code: number; message: string }>;

export type StatusName = keyof typeof STATUS;

/** `NERR.NERR_NameNotFound === 2273`: the numbers by name, as C code spells them. */
export const NERR = Object.freeze(
  Object.fromEntries(Object.entries(STATUS).map(([name, { code }]) => [name, code])),
) as { readonly [K in StatusName]: (typeof STATUS)[K]['code'] };

export type NetApiStatus = (typeof STATUS)[StatusName]['code'];

const byCode = new Map<number, StatusName>(
  Object.entries(STATUS).map(([name, { code }]) => [code, name as StatusName]),
);

/** The symbolic name of a status number, or `undefined` for a number netsend never returns. */
export function statusName(code: number): StatusName | undefined {
  return byCode.get(code);
}

/** The words for a status number, as `net helpmsg` would print them. */
export function statusMessage(code: number): string {
  const name = byCode.get(code);
  return name === undefined ? `Unknown status ${code}.` : STATUS[name].message;
}

/** `The message alias could not be found on the network. (NERR_NameNotFound 2273)` */
export function describeStatus(code: number): string {
  return `${statusMessage(code)} (${statusName(code) ?? 'status'} ${code})`;
}
