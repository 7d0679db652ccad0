import { isIP } from 'node:net';

/**
 * The one address parser: every source netsend sees (a socket's remote address, "ip:port" as the
 * listeners write a peer, "[v6]:port") is read here, so the rules, the rate limits, the audit log
 * and a message's sender all key a peer the same way.
 */

/** A peer: its address (IPv4-mapped IPv6 as the IPv4 it is, a link-local zone kept) and port, when known. */
export interface Endpoint {
  readonly address: string;
  readonly port: number | null;
}

/** An IP address as netsend keys it: "::ffff:10.0.0.5" is 10.0.0.5; null when `text` is no address. */
export function ipAddress(text: string): string | null {
  if (isIP(text) === 0) return null;
  // a dual-stack listener reports IPv4 peers mapped into IPv6; rules and budgets know them as IPv4
  return text.toLowerCase().startsWith('::ffff:') && isIP(text.slice(7)) === 4 ? text.slice(7) : text;
}

/** A port as a socket writes it: no sign, no leading zero ("fd00::005" ends in a group, not a port). */
const PORT = /^(0|[1-9]\d{0,4})$/;

/**
 * "10.0.0.5:139", "[fd00::5]:4139", "fd00::5:4139" (as `${remoteAddress}:${remotePort}` writes it)
 * or a bare address; null for anything else. Unbracketed, a last group of digits is a port only
 * when what comes before it is an address itself: "fd00::5" is an address, its head "fd00:" is not.
 */
export function parseEndpoint(text: string): Endpoint | null {
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(text);
  if (bracketed !== null) {
    const address = ipAddress(bracketed[1] ?? '');
    return address === null ? null : withPort(address, bracketed[2]);
  }
  const colon = text.lastIndexOf(':');
  const head = colon > 0 && PORT.test(text.slice(colon + 1)) ? ipAddress(text.slice(0, colon)) : null;
  if (head !== null) return withPort(head, text.slice(colon + 1));
  const address = ipAddress(text);
  return address === null ? null : { address, port: null };
}

function withPort(address: string, port: string | undefined): Endpoint | null {
  if (port === undefined) return { address, port: null };
  return PORT.test(port) && Number(port) <= 65535 ? { address, port: Number(port) } : null;
}

/** An endpoint as sources are written (and stored): "ADDRESS:PORT", or the bare address. */
export function endpointText(endpoint: Endpoint): string {
  return endpoint.port === null ? endpoint.address : `${endpoint.address}:${endpoint.port}`;
}

/**
 * The address of a source, the key of its budgets and audit records: "10.0.0.5:139" → "10.0.0.5",
 * "[fd00::5]:4139" → "fd00::5". A source that is no address (a name) is its own key.
 */
export function sourceAddress(source: string): string {
  return parseEndpoint(source)?.address ?? source;
}
