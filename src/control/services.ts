import type { Receipt } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import type { MessageRef } from '../messenger/receipts.js';
import type { Messenger } from '../messenger/messenger.js';
import type { AccessPolicy, Principal } from '../security/access.js';
import type { Accounts } from '../security/accounts.js';
import type { AuditLog } from '../security/audit.js';
import type { AliasGate } from '../security/front-door.js';
import type { AliasPolicy } from '../security/inbound-policy.js';
import type { LogonGate } from '../security/logon-gate.js';

export interface DaemonInfo {
  readonly pid: number;
  readonly dataDir: string;
  readonly workgroup: string;
  readonly startedAt: string;
  /** The secure channel's port and this host's key fingerprint, when the channel is on. */
  readonly securePort?: number;
  readonly hostKey?: string;
}

/** One kind of listener and where it listens now (addresses follow the host's). */
export interface ListenerState {
  /** "smb", "secure", "names", "mailslot", "web", "control". */
  readonly transport: string;
  readonly endpoints: readonly string[];
}

/** The organisation hub as this host sees it (`netsend hub status`). */
export interface HubStatus {
  readonly state: 'starting' | 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** The server in use, when connected. */
  readonly server: string | null;
  /** The realm joined: its stream, this host's consumer and names (false while connecting or refused). */
  readonly joined: boolean;
  /** Why it is not connected or joined, when it is not. */
  readonly error: string | null;
  readonly realm: string;
  /** Messages waiting for the hub to take them. */
  readonly pending: number;
  /** What became of messages received through the hub that their senders' hosts have not been told yet (receipts the hub has not taken). */
  readonly owed: number;
  /** Names in this host's replica of the registry. */
  readonly registry: number;
  /** Names this host holds in the realm, and those it meant to hold that another host holds. */
  readonly claims: readonly string[];
  readonly conflicts: readonly string[];
}

/** Each alias's allow/deny lists and legacy-input override, kept in the store. */
export interface AliasPolicies {
  get(alias: string): AliasPolicy;
  set(alias: string, policy: AliasPolicy | null): Promise<void>;
}

/** Receipts: of messages stored here, and (through the secure channel) of those sent to netsend hosts. */
export interface ReceiptServices {
  local(id: number): Promise<Receipt>;
  message(id: number): Promise<StoredMessage | null>;
  /** `asker`: who asks (a hub receipt is its sender's, or an administrator's). */
  remote?(host: string, id: number, asker: { name: string | null; administrator: boolean }): Promise<Receipt>;
  acknowledge(message: MessageRef, surface: string, by: string | null): Promise<Receipt>;
}

/** What the control socket, the secure channel and the web reach in the daemon: the operations' services. */
export interface ControlServices {
  readonly messenger: Messenger;
  readonly info: DaemonInfo;
  readonly access: AccessPolicy;
  readonly accounts: Accounts;
  readonly aliasPolicies: AliasPolicies;
  readonly audit: AuditLog;
  readonly receipts?: ReceiptServices;
  /** Who a local uid is: its login name and, for root and the daemon's own user, Administrators. */
  localPrincipal(uid: number | null): Promise<Principal>;
  /** A NetBIOS name's address, for clients that call another host's daemon by name. */
  resolveHost?(name: string): Promise<string>;
  /** The web inbox, when it is on: mints one-time login URLs for the data dir's owner. */
  web?: { loginUrl(): string };
  /** The organisation hub, when `hub servers` names one. */
  hub?: { status(): Promise<HubStatus> };
  /** The daemon's listeners as they are now (`netsend status`). */
  listeners?(): readonly ListenerState[];
  /** The front door's rules for adding aliases (login names, per-user quota). */
  readonly aliasGate: AliasGate;
  /** The front door's logons, one for every listener that takes passwords or tokens (a budget per account spans them). */
  readonly logonGate: LogonGate;
}
