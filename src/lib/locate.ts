import { isIP } from 'node:net';
import { NetApiError } from '../messenger/errors.js';
import { SECURE_PORT } from '../protocols/secure/index.js';

/**
 * Where the secure channel of a server is: "HOST", "HOST:PORT", "[v6]:PORT" or "\\\\NAME". A
 * NetBIOS name (no dots) is asked of `resolveName` (the local daemon's resolvers); a name it
 * does not find is left to DNS.
 */
export async function locateServer(server: string, resolveName: (name: string) => Promise<string | null>): Promise<{ host: string; port: number }> {
  const bare = server.replace(/^\\\\/, '');
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare) ?? /^([^:]+)(?::(\d+))?$/.exec(bare) ?? [bare, bare, undefined];
  const host = match[1] ?? bare;
  const port = match[2] === undefined ? SECURE_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NetApiError('ERROR_INVALID_PARAMETER', `"${server}" has no valid port.`);
  if (isIP(host) === 0 && !host.includes('.') && host.toLowerCase() !== 'localhost') {
    const address = await resolveName(host);
    if (address !== null) return { host: address, port };
  }
  return { host, port };
}
