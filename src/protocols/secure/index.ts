/**
 * netsend's secure channel: TLS 1.3 between hosts (or a client and a remote daemon), carrying the
 * control protocol's JSON lines (transports/secure). Its wire constants live here, below the
 * config that defaults to them.
 */

/** The secure channel's TCP port: no IANA port; 4139 echoes NetBIOS session service's 139. */
export const SECURE_PORT = 4139;
