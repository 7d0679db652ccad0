import { isIP } from 'node:net';

/**
 * The address of a source: "10.0.0.5:139" → "10.0.0.5", "fd00::5:4139" and "[fd00::5]:4139" →
 * "fd00::5", "::ffff:10.0.0.5:4139" → "10.0.0.5". Sources are written ADDRESS:PORT; one that is
 * not (a bare address, a name) is its own key.
 */
export function sourceAddress(source: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(source);
  let address = bracketed?.[1] ?? source;
  if (bracketed === null) {
    const colon = source.lastIndexOf(':');
    const head = source.slice(0, colon);
    // "fd00::5" is an address itself, but its head "fd00:" is not: only a head that is an address had a port
    if (colon > 0 && /^\d+$/.test(source.slice(colon + 1)) && isIP(head) !== 0) address = head;
  }
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
