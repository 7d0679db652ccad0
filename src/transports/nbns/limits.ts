/** The name service's timings and bounds, each with the rule it comes from. */

/** RFC 1002 §4.2.2: the TTL netsend gives its names; Samba uses three days too. */
export const NAME_TTL_SECONDS = 3 * 24 * 3600;
/** RFC 1002 §6: BCAST_REQ_RETRY_TIMEOUT and BCAST_REQ_RETRY_COUNT. */
export const BCAST_RETRY_MS = 250;
export const BCAST_RETRY_COUNT = 3;
/** RFC 1002 §6 gives UCAST_REQ_RETRY_TIMEOUT 5 s; a LAN's WINS answers in milliseconds, so 1 s. */
export const UCAST_RETRY_MS = 1000;
export const UCAST_RETRY_COUNT = 3;
/** Longest wait a WACK may ask for (RFC 1002 §4.2.16: its TTL), bounded so a call cannot hang. */
export const MAX_WACK_WAIT_MS = 10_000;
/** A WINS name is refreshed at half its TTL (RFC 1001 §15.1.7), at least this often apart. */
export const MIN_REFRESH_MS = 60_000;
/**
 * Answers one address gets: far more than a host resolving names needs, few enough that a
 * spoofed flood cannot turn this host into a reflector (a node status answer is several times
 * the size of its question).
 */
export const ANSWER_LIMIT = { burst: 200, ratePerSecond: 50 } as const;
