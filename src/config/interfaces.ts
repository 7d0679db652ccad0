import { BlockList, isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

/**
 * Samba's `interfaces`: each entry an interface name ("eth0", "lo", or a pattern "eth*" as
 * Samba matches them), an address ("192.168.1.20", "fe80::1"), or a subnet ("192.168.1.0/24",
 * "192.168.1.0/255.255.255.0", "2001:db8::/64"). Resolved against the host's interfaces at start
 * and again whenever they change (see os/network.ts).
 */
export function interfaceSpecProblem(spec: string): string | null {
  const [address, prefix, ...rest] = spec.split('/');
  if (rest.length > 0 || address === undefined) return `"${spec}" is not an interface, address or subnet`;
  if (prefix !== undefined) {
    const family = isIP(address);
    if (family === 6) return prefixBits(prefix, 128) === null || address.includes('%') ? `"${spec}" is not a valid IPv6 subnet` : null;
    if (family === 0 || prefixBits(prefix, 32) === null) return `"${spec}" is not a valid IPv4 subnet`;
    return null;
  }
  // an address, possibly with its zone ("fe80::1%eth0"), or an interface name (IFNAMSIZ: 15)
  if (isIP(address) !== 0 || /^[A-Za-z0-9_.:@*?-]{1,15}$/.test(address)) return null;
  return `"${spec}" is not an interface name or address`;
}

/** A prefix length, or a dotted IPv4 netmask as Samba also accepts ("255.255.255.0"), in bits. */
function prefixBits(prefix: string, max: number): number | null {
  if (/^\d{1,3}$/.test(prefix)) return Number(prefix) <= max ? Number(prefix) : null;
  if (max !== 32 || isIP(prefix) !== 4) return null;
  const mask = ipv4ToInt(prefix);
  const bits = 32 - Math.log2((~mask >>> 0) + 1);
  // only contiguous masks: ones, then zeros
  return Number.isInteger(bits) ? bits : null;
}

/** An address a transport may bind, with its network for broadcasts. */
export interface BindAddress {
  readonly interfaceName: string;
  /** The address without a zone: "fe80::1", never "fe80::1%eth0". */
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly netmask: string;
  /**
   * What a socket binds: the address, and for a link-local IPv6 address its zone, without which
   * the kernel cannot tell which link is meant ("fe80::1%eth0"; a bind without it fails EINVAL).
   */
  readonly host: string;
}

/** fe80::/10: an address that exists only on its own link and needs a zone to be used. */
export function isLinkLocalIpv6(address: string): boolean {
  return isIP(address) === 6 && /^fe[89ab][0-9a-f]:/i.test(address);
}

/** The host's addresses as os.networkInterfaces() lists them (interfaces that are up only). */
export function hostAddresses(host: NodeJS.Dict<NetworkInterfaceInfo[]>): BindAddress[] {
  return Object.entries(host).flatMap(([interfaceName, infos]) =>
    (infos ?? []).map((i) => ({
      interfaceName,
      address: i.address,
      family: i.family,
      netmask: i.netmask,
      host: i.family === 'IPv6' && isLinkLocalIpv6(i.address) ? `${i.address}%${interfaceName}` : i.address,
    })),
  );
}

/**
 * The host addresses selected by `interfaces`: by name (or name pattern), by exact address, or
 * inside a subnet. An entry that matches nothing is reported, not ignored, so a typo shows in the
 * log; the daemon waits for it rather than failing, as an interface may come up later.
 */
export function resolveInterfaces(
  specs: readonly string[],
  host: NodeJS.Dict<NetworkInterfaceInfo[]>,
): { addresses: BindAddress[]; unmatched: string[] } {
  const all = hostAddresses(host);
  const chosen = new Map<string, BindAddress>();
  const unmatched: string[] = [];
  for (const spec of specs) {
    const matches = all.filter((a) => matchesSpec(a, spec));
    if (matches.length === 0) unmatched.push(spec);
    for (const m of matches) chosen.set(m.host, m);
  }
  return { addresses: [...chosen.values()], unmatched };
}

function matchesSpec(address: BindAddress, spec: string): boolean {
  const [base, prefix] = spec.split('/');
  if (base === undefined) return false;
  if (prefix === undefined) {
    if (isIP(base) !== 0) return address.host === base || address.address === base;
    return namePattern(spec).test(address.interfaceName);
  }
  const family = isIP(base) === 6 ? 'ipv6' : 'ipv4';
  if (address.family.toLowerCase() !== family) return false;
  const bits = prefixBits(prefix, family === 'ipv6' ? 128 : 32);
  if (bits === null) return false;
  const network = new BlockList();
  network.addSubnet(base, bits, family);
  return network.check(address.address, family);
}

/** Samba matches interface names as shell patterns (`eth*`, `wlan?`). */
function namePattern(spec: string): RegExp {
  const escaped = spec.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** What changed between two resolutions: addresses keyed by what they bind. */
export function addressChanges(before: readonly BindAddress[], after: readonly BindAddress[]): { added: BindAddress[]; removed: BindAddress[] } {
  const had = new Set(before.map(addressKey));
  const has = new Set(after.map(addressKey));
  return { added: after.filter((a) => !had.has(addressKey(a))), removed: before.filter((a) => !has.has(addressKey(a))) };
}

/** An address with its prefix: a changed netmask is a changed address (its broadcast moves). */
export const addressKey = (a: BindAddress): string => `${a.host}/${a.netmask}`;
