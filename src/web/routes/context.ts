/** What the web inbox's routes are given, and the shapes they share. */
import type { ControlServices } from '../../control/handlers.js';
import type { MessageEvent, MessageStates } from '../../messenger/events.js';
import type { MessageJson, MessageQuery, StoredMessage } from '../../messenger/message.js';
import type { Principal } from '../../security/access.js';
import type { LogonGate } from '../../security/logon-gate.js';
import type { WebAuth, WebSession } from '../auth.js';
import type { PushHub } from '../push.js';

/** The store calls the web inbox makes, all reads (the daemon hands it the SqliteStore's). */
export interface WebStore {
  findMessages(query: MessageQuery): Promise<StoredMessage[]>;
  getMessage(id: number): Promise<StoredMessage | null>;
  listMessageEvents(messageId: number): Promise<MessageEvent[]>;
  latestMessageStates(messageIds: readonly number[]): Promise<MessageStates[]>;
}

/**
 * Where a page's read and acknowledge go: the daemon's receipts, the only writer of message
 * events, which also tells the open pages of the new state (the routes do not). It is given the
 * message in hand, so it need not read it again to learn whom the pages must show it to.
 */
export interface WebReceipts {
  /** Resolves once the event is stored; null when the message is gone. */
  record(message: Pick<StoredMessage, 'id' | 'to'>, state: 'read' | 'acknowledged', surface: string, by: string | null): Promise<MessageEvent | null>;
  /** The same for many messages, stored in one commit; each one's event, null where it is gone. */
  recordAll(messages: ReadonlyArray<Pick<StoredMessage, 'id' | 'to'>>, state: 'read', surface: string, by: string | null): Promise<Array<MessageEvent | null>>;
}

/** A control operation run for a caller, under the control socket's access rules and audit. */
export type RunControl = (request: Record<string, unknown>, principal: Principal) => Promise<unknown>;

export interface WebContext {
  readonly services: ControlServices;
  readonly store: WebStore;
  readonly receipts: WebReceipts;
  /** The control operations (handleRequest over `services`): sending and aliases go through them. */
  readonly control: RunControl;
  readonly auth: WebAuth;
  readonly push: PushHub;
  /** The data dir's owner, as the control socket knows it (an administrator). */
  readonly ownerPrincipal: () => Promise<Principal>;
  readonly workgroup: string;
  /** Names this machine answers to besides literal addresses (the DNS-rebinding guard). */
  readonly hostNames: ReadonlySet<string>;
  /** Per port: two daemons on one host must not overwrite each other's cookie. */
  readonly cookieName: string;
  /** The front door's logons: per address and per account, bounded hashing (security/logon-gate.ts). */
  readonly logons: Pick<LogonGate, 'logon' | 'charge' | 'refund'>;
  readonly page: { readonly html: string; readonly js: string; readonly css: string };
}

/** A message as the page and the API show it: the inbox JSON and what became of it. */
export interface WebMessage extends MessageJson {
  /** Whether a reply can go to the sender (shared.ts, canReplyTo): the page offers Reply only then. */
  canReply: boolean;
  state: { read: boolean; acknowledged: boolean; latest: MessageEvent | null };
}

/** An authenticated caller: a page's session, or an API client's Authorization header. */
export interface Caller {
  readonly principal: Principal;
  readonly session: WebSession | null;
  readonly owner: boolean;
}
