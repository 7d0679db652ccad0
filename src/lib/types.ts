/** The library's types, each taken from the operation list (src/control/operations), so they follow it. */
import type { SecureTrust } from '../config/choices.js';
import type { OperationName, ParamsOf, ResultOf } from '../control/operations/index.js';

/** NET SEND's parameters: `to`, `text`; `from` (default the daemon's computer name), `title`, `host`, `priority`, `ttl` (seconds). */
export type SendInput = ParamsOf<'send'>;
export type SendResult = ResultOf<'send'>;
/** The daemon's name, workgroup, pid, data dir, start time, role, alias count and (secure channel on) host key and port. */
export type DaemonStatus = ResultOf<'status'>;
export type MessageJson = ResultOf<'inbox.list'>[number];
export type Receipt = ResultOf<'receipt'>;
export type UserSummary = ResultOf<'users.list'>[number];
export type CredentialSummary = ResultOf<'users.tokens'>[number];
export type AuditRecord = ResultOf<'audit.list'>[number];
export type AliasPolicy = ResultOf<'names.policy'>;
export type { OperationName, ParamsOf, ResultOf };

export interface ConnectOptions {
  /** The daemon's data dir; default: NETSEND_DATA_DIR, else the per-user or system default. */
  dataDir?: string;
  /** How long to wait for the daemon's hello, in ms. Default 5000. */
  timeoutMs?: number;
}

export interface RemoteConnectOptions extends ConnectOptions {
  /** The other host: "HOST", "HOST:PORT", "\\\\HOST", an address or a NetBIOS name (resolved by the local daemon). */
  server: string;
  /** An account on that host, with `password`; or `token`. Default: NETSEND_USER, NETSEND_PASSWORD, NETSEND_TOKEN. */
  user?: string;
  password?: string;
  token?: string;
  /** How to trust the host's key; default NETSEND_SECURE_TRUST, else "tofu" (pinned on first use). */
  trust?: SecureTrust;
  /** The site CA's certificate file (PEM) for trust "ca"; default NETSEND_SECURE_CA_FILE. */
  caFile?: string;
  /** Told when the host's key is pinned for the first time. */
  onPinned?: (host: string, fingerprint: string) => void;
  /**
   * Present this machine's host key (the data dir's, made if there is none) instead of a password:
   * the server gives the call the groups of the account the key is bound to (netsend user key).
   */
  hostKey?: boolean;
}
