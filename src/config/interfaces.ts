import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

/**
 * Samba's `interfaces`: each entry an interface name ("eth0", "lo"), an address, or a subnet
 * ("192.168.1.0/24"). Resolved against the host's interfaces when a transport binds.
 */
export function interfaceSpecProblem(spec: string): string | null {
  const [address, prefix, ...rest] = spec.split('/');
  if (rest.length > 0 || address === undefined) return `"${spec}" is not an interface, address or subnet`;
  if (prefix !== undefined) {
    const family = isIP(address);
    const bits = Number(prefix);
    if (family === 6) return `"${spec}": IPv6 subnets are not supported; name the interface or the address`;
    if (family === 0 || !/^\d+$/.test(prefix) || bits > 32) return `"${spec}" is not a valid IPv4 subnet`;
    return null;
  }
  if (isIP(address) !== 0 || /^[A-Za-z0-9_.:@-]{1,15}$/.test(address)) return null;
  return `"${spec}" is not an interface name or address`;
}

/** An address a transport may bind, with its network for broadcasts. */
export interface BindAddress {
  readonly interfaceName: string;
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly netmask: string;
}

/**
 * The host addresses selected by `interfaces`: by name, by exact address, or inside a subnet.
 * An entry that matches nothing is reported, not ignored, so a typo cannot open the wrong port.
 */
export function resolveInterfaces(
  specs: readonly string[],
  host: NodeJS.Dict<NetworkInterfaceInfo[]>,
): { addresses: BindAddress[]; unmatched: string[] } {
  const all: BindAddress[] = Object.entries(host).flatMap(([interfaceName, infos]) =>
    (infos ?? []).map((i) => ({ interfaceName, address: i.address, family: i.family, netmask: i.netmask })),
  );
  const chosen = new Map<string, BindAddress>();
  const unmatched: string[] = [];
  for (const spec of specs) {
    const matches = all.filter((a) => matchesSpec(a, spec));
    if (matches.length === 0) unmatched.push(spec);
    for (const m of matches) chosen.set(m.address, m);
  }
  return { addresses: [...chosen.values()], unmatched };
}

function matchesSpec(address: BindAddress, spec: string): boolean {
  const [base, prefix] = spec.split('/');
  if (base === undefined) return false;
  if (prefix === undefined) return address.interfaceName === spec || address.address === spec;
  if (address.family !== 'IPv4') return false;
  const mask = Number(prefix) === 0 ? 0 : (~0 << (32 - Number(prefix))) >>> 0;
  return ((ipv4ToInt(address.address) & mask) >>> 0) === ((ipv4ToInt(base) & mask) >>> 0);
}

export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
