/**
 * netsend: the Windows Messenger service API.
 *
 *   import { NetMessageBufferSend, NERR } from 'netsend';
 *   const text = 'lunch is here';
 *   const status = await NetMessageBufferSend(null, 'ALICE', null, text, text.length * 2);
 *
 *   import { connect } from 'netsend';
 *   const client = await connect();
 *   await client.send({ to: 'ALICE', text: 'lunch is here' });
 */
export {
  NetMessageBufferSend,
  NetMessageNameAdd,
  NetMessageNameDel,
  NetMessageNameEnum,
  NetMessageNameGetInfo,
  MAX_PREFERRED_LENGTH,
} from './netapi.js';
export type { Ref, MSG_INFO_0, MSG_INFO_1 } from './netapi.js';
export { connect, Client } from './client.js';
export type { ConnectOptions, SendInput, DaemonStatus, Receipt, UserSummary, AuditRecord, AliasPolicy, OperationName, ParamsOf, ResultOf } from './client.js';
export { NERR, STATUS, statusName, statusMessage, describeStatus } from '../messenger/status.js';
export type { StatusName, NetApiStatus } from '../messenger/status.js';
export { NetApiError, isNetApiError } from '../messenger/errors.js';
export { encodeMessageBuffer } from '../messenger/buffer.js';
export type { MessageBuffer } from '../messenger/buffer.js';
export type { Alias, AliasKind } from '../messenger/aliases.js';
export type { MessageJson, Via } from '../messenger/message.js';
export type { SendResult } from '../messenger/messenger.js';
export type { CredentialSummary } from '../security/accounts.js';
