export { STATUS, NERR, statusName, statusMessage, describeStatus } from './status.js';
export type { StatusName, NetApiStatus } from './status.js';
export { NetApiError, isNetApiError } from './errors.js';
export { MAX_ALIAS_LENGTH, aliasProblem, normalizeAlias, computerNameFromHostname } from './names.js';
export type { AliasProblem } from './names.js';
export { decodeMessageBuffer, encodeMessageBuffer } from './buffer.js';
export type { MessageBuffer } from './buffer.js';
export { VIA, messageToJson, classicHeader, printableText } from './message.js';
export type { Via, IncomingMessage, StoredMessage, MessageJson } from './message.js';
export { senderOf } from './sender.js';
export type { Sender, SenderHost } from './sender.js';
export { AliasTable, noNetworkRegistrar } from './aliases.js';
export type { Alias, AliasKind, AliasStore, NameRegistrar, AliasTableOptions } from './aliases.js';
export { Messenger, MAX_BROADCAST_CHARACTERS } from './messenger.js';
export type {
  MessageStore, Sink, OutgoingMessage, BroadcastSender, BroadcastScope, SendOptions, SendReport, RemoteSender, Caller, SendRequest,
  SendResult, MessengerOptions,
} from './messenger.js';
