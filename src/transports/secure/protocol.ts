/**
 * netsend's secure channel: TLS 1.3 between hosts (or a client and a remote daemon), carrying
 * the control protocol's JSON lines. A caller first proves who it is: a daemon by the host
 * certificate it presents in the handshake, a person with `auth` (user and password, or a token).
 * Its port, SECURE_PORT, is a wire constant in protocols/secure.
 */

/**
 * Until the peer is authenticated (a logon succeeded, or its host certificate was accepted) a line
 * is small: an anonymous peer cannot make the daemon buffer much.
 */
export const MAX_ANONYMOUS_LINE_BYTES = 16 * 1024;

/**
 * The longest line of an authenticated peer: the largest request `max message size` allows. Its
 * text is at most maxMessageBytes / 2 UTF-16 units, and JSON writes a unit in six bytes at worst
 * (`\u0001`, a lone surrogate), so 3 × maxMessageBytes; the other fields (names, user, time,
 * signature) fit in 16 KiB more. 208 KiB with the default 64 KiB.
 */
export const authenticatedLineBytes = (maxMessageBytes: number) => 3 * maxMessageBytes + MAX_ANONYMOUS_LINE_BYTES;

/** Bounds of a delivery's fields besides the text (ERROR_INVALID_PARAMETER past them). */
export const DELIVERY_FIELD_LIMITS = {
  /** The sending user: an account or login name. */
  user: 256,
  /** An ISO time ("2026-11-25T10:31:05.123Z"). */
  sentAt: 64,
  /** Base64 of a signature (an RSA-8192 one is 1,368 characters). */
  signature: 2048,
} as const;

export const SECURE_LIMITS = {
  /** Connections open at once. */
  maxSessions: 256,
  /** Connections open at once from one address, so that one address cannot hold them all. */
  maxSessionsPerAddress: 32,
  /**
   * From the TCP connection, the TLS handshake and the logon must be done within this (a host
   * whose certificate is accepted is logged on by its handshake). Requests refused before then do
   * not extend it.
   */
  handshakeMs: 10_000,
  /** An authenticated session with no request for this long is closed. */
  idleMs: 120_000,
} as const;

export type SecureLimits = { readonly [K in keyof typeof SECURE_LIMITS]: number };

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
