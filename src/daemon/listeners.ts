import type { BindAddress } from '../config/interfaces.js';
import type { Config } from '../config/load.js';
import { NetApiError } from '../messenger/errors.js';

/** How one kind of listener starts on each of its ports, and what the log says about it. */
export interface ListenerKind<T> {
  readonly ports: readonly number[];
  /** Where the ports came from: only the defaults may be skipped. */
  readonly source: Config['sources'][keyof Config['sources']];
  create(port: number): T;
  open(listener: T): Promise<void>;
  close(listener: T): Promise<void> | void;
  /** The log line once it listens (null: the caller says it later). */
  opened(listener: T, port: number): string | null;
  /** The log line when a default port cannot be had (no privilege, or taken): the daemon goes on without it. */
  skipped(port: number, code: string | undefined): string;
  /** Why the daemon cannot start, for a port the administrator chose. */
  failed(port: number, error: unknown): string;
}

/**
 * Starts one listener per port. A listener that cannot open is skipped only on a default port
 * and only for want of privilege or because something else holds the port; ports the
 * administrator chose must open or the daemon does not start (NERR_MsgInitFailed).
 */
export async function startListeners<T>(kind: ListenerKind<T>, log: (line: string) => void): Promise<T[]> {
  const started: T[] = [];
  for (const port of kind.ports) {
    const listener = kind.create(port);
    try {
      await kind.open(listener);
    } catch (error) {
      if (skippable(error, kind.source)) {
        log(kind.skipped(port, (error as NodeJS.ErrnoException).code));
        continue;
      }
      await Promise.all(started.map((s) => kind.close(s)));
      throw new NetApiError('NERR_MsgInitFailed', kind.failed(port, error), { cause: error });
    }
    const opened = kind.opened(listener, port);
    if (opened !== null) log(opened);
    started.push(listener);
  }
  return started;
}

export function skippable(error: unknown, source: string): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return source === 'default' && (code === 'EACCES' || code === 'EADDRINUSE');
}

/** An error's errno code, else its text: for the messages of listeners that could not open. */
export const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/** A listener's endpoints for the start-up log, or what it waits for while `interfaces` has no address yet. */
export function endpointsOr(endpoints: readonly string[], port: number | string, family = ''): string {
  return endpoints.length > 0 ? endpoints.join(', ') : `port ${port}, once an ${family}address of "interfaces" is up`;
}

/**
 * What the SMB and secure listeners bind: every selected address, IPv4 and IPv6, link-local ones
 * with their zone ("fe80::1%eth0"); or, with `bind interfaces only = no`, every address of the host.
 */
export function tcpHosts(config: Config, addresses: readonly BindAddress[]): string[] | undefined {
  return config.bindInterfacesOnly ? addresses.map((a) => a.host) : undefined;
}

/**
 * NetBIOS names and datagrams are IPv4 only (RFC 1001/1002 define no IPv6 mapping; nmbd is
 * IPv4 only too): say so once for the IPv6 addresses `interfaces` selects, which SMB and the
 * secure channel do serve.
 */
export function logIpv4Only(addresses: readonly BindAddress[], config: Config, log: (line: string) => void): void {
  // loopback (::1) is left out: nothing on a LAN asks it, and every default start would say it
  const ipv6 = addresses.filter((a) => a.family === 'IPv6' && a.address !== '::1').map((a) => a.host);
  if (ipv6.length === 0 || (config.nbtPort.length === 0 && config.dgramPort.length === 0)) return;
  log(`NetBIOS names and broadcasts are IPv4 only (RFC 1001/1002): ${ipv6.join(', ')} receive SMB messages and the secure channel, not name queries or mailslot broadcasts`);
}
