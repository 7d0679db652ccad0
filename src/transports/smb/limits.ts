/**
 * Limits of the SMB message transport, each with its reason. The legacy wire is unauthenticated,
 * so everything a peer can make the daemon hold is bounded.
 */
export const SMB_LIMITS = {
  /** A session with no request for this long is closed; keepalives do not count (a client sends a whole message in ms). */
  idleMs: 60_000,
  /** A frame, once its first byte is in, must be whole within this (a slowloris trickle is cut). */
  frameMs: 10_000,
  /** From SEND_START_MB to SEND_END_MB; a slower multi-block message is dropped. */
  messageMs: 30_000,
  /** Sessions at once; past it new ones get "insufficient resources" (0x83). */
  maxSessions: 64,
  /** Sessions at once from one address: a client holds one; idle sockets from one address cannot lock others out. */
  maxSessionsPerAddress: 8,
  /** Multi-block messages a session may have open at once (clients use one). */
  maxOpenGroups: 4,
  /** How long the sender waits for a connection or any reply. */
  sendTimeoutMs: 10_000,
} as const;

/**
 * The longest text the legacy path carries, in OEM bytes. Samba's client cuts input at 1,600
 * bytes (its buffer) and the Messenger pop-up held about as much; longer texts are refused with
 * a clear error rather than cut.
 */
export const LEGACY_MAX_TEXT_BYTES = 1600;
