/**
 * netsend's secure channel: TLS 1.3 between hosts (or a client and a remote daemon), carrying
 * the control protocol's JSON lines. A caller first proves who it is: a daemon by the host
 * certificate it presents in the handshake, a person with `auth` (user and password, or a token).
 */
export const SECURE_PORT = 4139;

/** Before `auth` succeeds a line is small: an anonymous peer cannot make the daemon buffer much. */
export const MAX_ANONYMOUS_LINE_BYTES = 16 * 1024;

export const SECURE_LIMITS = {
  /** Connections open at once. */
  maxSessions: 256,
  /** The TLS handshake and the first request must be done within this. */
  handshakeMs: 10_000,
  /** A session with no request for this long is closed. */
  idleMs: 120_000,
  /** Logon attempts per source address, given back when one succeeds: a burst, then one every 6 s. */
  logonBurst: 10,
  logonPerSecond: 1 / 6,
} as const;

/** What a sending daemon sends for each message (op `deliver`), signed with its host key. */
export interface DeliverRequest {
  from: string;
  to: string;
  text: string;
  /** The sending user on the sending host, if known. */
  user: string | null;
  /** ISO time the sender signed it. */
  sentAt: string;
  /** Base64 signature over the fields above and the host name (see signMessage). */
  signature: string;
}
