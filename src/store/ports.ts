/**
 * The store as its consumers see it: one port per area, each typed by the interface its consumer
 * declares, so a consumer is handed `store.events`, `store.accounts` and so on, not the whole store.
 * The SQLite store (sqlite.ts) and the tests' memory store (test/helpers/memory-store.ts) both
 * offer them, and one contract suite (test/helpers/store-contract.ts) holds the two to it.
 */
import type { AliasStore, StoredAlias } from '../messenger/aliases.js';
import type { MessageEvent } from '../messenger/events.js';
import type { MessageQuery, StoredMessage } from '../messenger/message.js';
import type { MessageStore } from '../messenger/messenger.js';
import type { ReceiptStore } from '../messenger/receipts.js';
import type { AccountStore } from '../security/accounts.js';
import type { AuditStore } from '../security/audit.js';

/** The inbox: Messenger's MessageStore, and the web inbox's reads (the messages half of its WebStore). */
export interface MessagePort extends MessageStore {
  /** Newest first: pages back with `beforeId`, search in sender, recipient and text (ASCII without case). */
  findMessages(query: MessageQuery): Promise<StoredMessage[]>;
  /** null when there is no such message */
  getMessage(id: number): Promise<StoredMessage | null>;
}

/** What became of each message: Receipts' ReceiptStore, and the web inbox's history of one message. */
export interface EventPort extends ReceiptStore {
  /** Every event of a message, oldest first. */
  listMessageEvents(messageId: number): Promise<MessageEvent[]>;
}

/** Per-alias policies, as the JSON text they were stored as. */
export interface PolicyPort {
  /** By name. */
  loadAliasPolicies(): Promise<Array<{ name: string; policy: string }>>;
  /** null removes the alias's policy */
  putAliasPolicy(name: string, policy: string | null): Promise<void>;
}

/** The aliases added at runtime: AliasTable's AliasStore, and those stored when the store opened. */
export interface AliasPort extends AliasStore {
  readonly addedAliases: readonly StoredAlias[];
}

export interface StorePorts {
  readonly messages: MessagePort;
  readonly events: EventPort;
  readonly accounts: AccountStore;
  readonly audit: AuditStore;
  readonly policies: PolicyPort;
  readonly aliases: AliasPort;
  /** Commits what is pending; every call after it rejects ("The store is closed"). */
  close(): Promise<void>;
}
