/** Samba's `interfaces` entries (interfaces.ts): validation and resolution against a fake host. */
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import fc from 'fast-check';
import { addressChanges, interfaceSpecProblem, ipv4ToInt, isLinkLocalIpv6, resolveInterfaces } from './interfaces.js';

function info(address: string, netmask: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo {
  return family === 'IPv4'
    ? { address, netmask, family, mac: '00:00:00:00:00:00', internal: false, cidr: null }
    : { address, netmask, family, mac: '00:00:00:00:00:00', internal: false, cidr: null, scopeid: 0 };
}

/** What os.networkInterfaces() returns on a host with loopback, a LAN card and a VPN. */
const HOST: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [info('127.0.0.1', '255.0.0.0', 'IPv4'), info('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'IPv6')],
  eth0: [info('192.168.7.20', '255.255.255.0', 'IPv4'), info('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6'), info('2001:db8::20', 'ffff:ffff:ffff:ffff::', 'IPv6')],
  tun0: [info('10.1.2.3', '255.0.0.0', 'IPv4')],
  down0: undefined,
};

const addresses = (specs: string[]) => resolveInterfaces(specs, HOST).addresses.map((a) => `${a.interfaceName}=${a.address}`);

test('interfaceSpecProblem accepts interface names and patterns, IPv4 and IPv6 addresses and subnets, as Samba does', () => {
  for (const spec of ['lo', 'eth0', 'wlp2s0', 'br-0123456789ab', 'eth0.100', 'eth0:1', 'eth*', 'wlan?', '127.0.0.1', '::1', 'fe80::1', 'fe80::1%eth0', '10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0', '10.1.2.3/32', '192.168.1.0/255.255.255.0', 'fe80::/64', '2001:db8::/32', '::/0']) {
    assert.equal(interfaceSpecProblem(spec), null, spec);
  }
});

test('interfaceSpecProblem refuses bad subnets and impossible names, quoting the entry', () => {
  const cases: Array<[string, string]> = [
    ['10.0.0.0/33', '"10.0.0.0/33" is not a valid IPv4 subnet'],
    ['1.2.3.4/x', '"1.2.3.4/x" is not a valid IPv4 subnet'],
    ['10.0.0.0/', '"10.0.0.0/" is not a valid IPv4 subnet'],
    ['10.0.0.0/-1', '"10.0.0.0/-1" is not a valid IPv4 subnet'],
    ['eth0/24', '"eth0/24" is not a valid IPv4 subnet'],
    ['/8', '"/8" is not a valid IPv4 subnet'],
    ['fe80::/129', '"fe80::/129" is not a valid IPv6 subnet'],
    ['fe80::%eth0/64', '"fe80::%eth0/64" is not a valid IPv6 subnet'],
    ['10.0.0.0/255.0.255.0', '"10.0.0.0/255.0.255.0" is not a valid IPv4 subnet'],
    ['10.0.0.0/8/9', '"10.0.0.0/8/9" is not an interface, address or subnet'],
    ['a b', '"a b" is not an interface name or address'],
    ['', '"" is not an interface name or address'],
    ['sixteen-chars-if', '"sixteen-chars-if" is not an interface name or address'],
    ['eth0;rm', '"eth0;rm" is not an interface name or address'],
  ];
  for (const [spec, problem] of cases) assert.equal(interfaceSpecProblem(spec), problem, spec);
});

test('resolveInterfaces selects every address of an interface by name', () => {
  assert.deepEqual(resolveInterfaces(['eth0'], HOST), {
    addresses: [
      { interfaceName: 'eth0', address: '192.168.7.20', family: 'IPv4', netmask: '255.255.255.0', host: '192.168.7.20' },
      // link-local: bound with its zone, without which the kernel refuses the bind (EINVAL)
      { interfaceName: 'eth0', address: 'fe80::1', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', host: 'fe80::1%eth0' },
      { interfaceName: 'eth0', address: '2001:db8::20', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', host: '2001:db8::20' },
    ],
    unmatched: [],
  });
});

test('resolveInterfaces selects an address by its exact text, IPv4 or IPv6, a link-local one with or without its zone', () => {
  assert.deepEqual(addresses(['10.1.2.3']), ['tun0=10.1.2.3']);
  assert.deepEqual(addresses(['::1']), ['lo=::1']);
  assert.deepEqual(addresses(['fe80::1']), ['eth0=fe80::1']);
  assert.deepEqual(addresses(['fe80::1%eth0']), ['eth0=fe80::1']);
});

test('resolveInterfaces matches interface names as shell patterns, as Samba does', () => {
  assert.deepEqual(addresses(['e*']), ['eth0=192.168.7.20', 'eth0=fe80::1', 'eth0=2001:db8::20']);
  assert.deepEqual(addresses(['tun?']), ['tun0=10.1.2.3']);
  assert.deepEqual(addresses(['eth.']), [], 'a dot is a dot, not any character');
});

test('isLinkLocalIpv6 is fe80::/10 only', () => {
  assert.equal(isLinkLocalIpv6('fe80::1'), true);
  assert.equal(isLinkLocalIpv6('FEBF::1'), true);
  assert.equal(isLinkLocalIpv6('fec0::1'), false);
  assert.equal(isLinkLocalIpv6('2001:db8::1'), false);
  assert.equal(isLinkLocalIpv6('169.254.1.1'), false);
});

test('addressChanges tells added and removed addresses; a new netmask is a change of address', () => {
  const before = resolveInterfaces(['eth0', 'tun0'], HOST).addresses;
  const moved = { ...HOST, tun0: [info('10.1.2.3', '255.255.0.0', 'IPv4')], eth0: [info('192.168.7.20', '255.255.255.0', 'IPv4')] };
  const { added, removed } = addressChanges(before, resolveInterfaces(['eth0', 'tun0'], moved).addresses);
  assert.deepEqual(added.map((a) => `${a.host}/${a.netmask}`), ['10.1.2.3/255.255.0.0']);
  assert.deepEqual(removed.map((a) => `${a.host}/${a.netmask}`), ['fe80::1%eth0/ffff:ffff:ffff:ffff::', '2001:db8::20/ffff:ffff:ffff:ffff::', '10.1.2.3/255.0.0.0']);
});

test('resolveInterfaces selects the addresses inside a subnet, of that subnet\'s family only', () => {
  assert.deepEqual(addresses(['192.168.7.0/24']), ['eth0=192.168.7.20']);
  assert.deepEqual(addresses(['192.168.7.0/255.255.255.0']), ['eth0=192.168.7.20']);
  assert.deepEqual(addresses(['fe80::/10']), ['eth0=fe80::1']);
  assert.deepEqual(addresses(['2001:db8::/32']), ['eth0=2001:db8::20']);
  assert.deepEqual(addresses(['10.0.0.0/8']), ['tun0=10.1.2.3']);
  assert.deepEqual(addresses(['192.168.7.20/32']), ['eth0=192.168.7.20']);
  assert.deepEqual(addresses(['0.0.0.0/0']), ['lo=127.0.0.1', 'eth0=192.168.7.20', 'tun0=10.1.2.3']);
  assert.deepEqual(addresses(['192.168.6.0/24']), []);
});

test('resolveInterfaces reports each entry that matches nothing, in order, and lists an address once', () => {
  assert.deepEqual(resolveInterfaces(['eth9', 'lo', '172.16.0.0/12', '127.0.0.1', 'down0'], HOST), {
    addresses: [
      { interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4', netmask: '255.0.0.0', host: '127.0.0.1' },
      { interfaceName: 'lo', address: '::1', family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', host: '::1' },
    ],
    unmatched: ['eth9', '172.16.0.0/12', 'down0'],
  });
  assert.deepEqual(resolveInterfaces([], HOST), { addresses: [], unmatched: [] });
});

test('ipv4ToInt gives the unsigned 32-bit number of an address', () => {
  assert.equal(ipv4ToInt('0.0.0.0'), 0);
  assert.equal(ipv4ToInt('192.168.7.20'), 0xc0a80714);
  assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

test('resolveInterfaces: an address is in its own network for any prefix, and out of it when a network bit differs', () => {
  fc.assert(
    fc.property(ipv4, fc.integer({ min: 0, max: 32 }), fc.nat(31), (parts, prefix, bit) => {
      const address = parts.join('.');
      const value = ipv4ToInt(address);
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
      const host = { if0: [info(address, dotted(mask), 'IPv4')] };
      const network = `${dotted((value & mask) >>> 0)}/${prefix}`;
      assert.equal(interfaceSpecProblem(network), null);
      assert.deepEqual(resolveInterfaces([network], host).unmatched, [], `${address} in ${network}`);
      if (bit < prefix) {
        const other = `${dotted(((value & mask) ^ (1 << (31 - bit))) >>> 0)}/${prefix}`;
        assert.deepEqual(resolveInterfaces([other], host).unmatched, [other], `${address} not in ${other}`);
      }
    }),
    { numRuns: 1000 },
  );
});
