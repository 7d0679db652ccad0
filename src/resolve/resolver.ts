import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { NetApiError } from '../messenger/errors.js';
import { foldNetbiosName } from '../messenger/netbios-names.js';
import { parseLmhosts, type LmhostsEntry } from './lmhosts.js';

/** Where a NetBIOS name's holder listens. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** A name held by a host elsewhere in the organisation: reached through the hub, not at an address. */
  readonly viaHub?: string;
}

/** Finds the host holding `name<suffix>`, or null when this source does not know it. */
export interface NameResolver {
  resolve(name: string, suffix: number): Promise<Endpoint | null>;
}

/**
 * "ADDRESS" or "ADDRESS:PORT" as given to --host.
 * @throws NetApiError ERROR_INVALID_PARAMETER
 */
export function parseHost(host: string, defaultPort: number): Endpoint {
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(host);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (match === null || isIP(match[1] as string) !== 4 || port < 1 || port > 65535) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `"${host}" is not an IPv4 address with an optional :port.`);
  }
  return { address: match[1] as string, port };
}

/**
 * The static table: the lmhosts file in the data dir, read at each lookup so an administrator's
 * edit takes effect without a restart (it is small, and lookups happen once per message).
 */
export class LmhostsResolver implements NameResolver {
  readonly #path: string;
  readonly #port: number;

  constructor(path: string, port: number) {
    this.#path = path;
    this.#port = port;
  }

  async resolve(name: string, suffix: number): Promise<Endpoint | null> {
    let entries: LmhostsEntry[];
    try {
      entries = parseLmhosts(await readFile(this.#path, 'utf8'), this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new NetApiError('NERR_InternalError', `The lmhosts file cannot be used: ${(error as Error).message}`);
    }
    // As Samba's lmhosts lookup compares (strequal): upper-cased per character with Samba's table.
    const wanted = foldNetbiosName(name);
    const entry = entries.find((e) => e.name === wanted && (e.suffix === undefined || e.suffix === suffix));
    return entry === undefined ? null : { address: entry.address, port: this.#port };
  }
}
