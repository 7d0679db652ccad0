import { execFileSync, spawnSync } from 'node:child_process';

/**
 * N test hosts on one private LAN, entirely inside network namespaces this process creates: a
 * bridge namespace holding br0, and one namespace per host joined to it by a veth pair whose
 * ends are born inside the namespaces (the root namespace never sees them). Addresses come
 * from 10.77.0.0/24, which exists only in these namespaces, so broadcasts cannot leave them.
 */
let counter = 0;

export interface TestHost {
  readonly namespace: string;
  readonly address: string;
  /** argv prefix running a command on this host: `ip netns exec NAME` (ip execs it, same PID). */
  readonly prefix: readonly string[];
}

export class TestLan {
  readonly hosts: readonly TestHost[];
  readonly broadcast = '10.77.0.255';
  readonly #bridge: string;

  private constructor(bridge: string, hosts: TestHost[]) {
    this.#bridge = bridge;
    this.hosts = hosts;
  }

  static create(count: number): TestLan {
    const tag = `${process.pid}-${counter++}`;
    const bridge = `nsbr-${tag}`;
    const made: string[] = [];
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      ip('netns', 'add', bridge);
      made.push(bridge);
      ip('-n', bridge, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', bridge, 'link', 'set', 'br0', 'up');
      const hosts: TestHost[] = [];
      for (let i = 0; i < count; i++) {
        const namespace = `nsh-${tag}-${i}`;
        const address = `10.77.0.${i + 1}`;
        ip('netns', 'add', namespace);
        made.push(namespace);
        ip('link', 'add', 'eth0', 'netns', namespace, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridge);
        ip('-n', bridge, 'link', 'set', `p${i}`, 'master', 'br0');
        ip('-n', bridge, 'link', 'set', `p${i}`, 'up');
        ip('-n', namespace, 'addr', 'add', `${address}/24`, 'brd', '+', 'dev', 'eth0');
        ip('-n', namespace, 'link', 'set', 'lo', 'up');
        // IPv6 stays on, as on any Linux host: eth0 gets its fe80::/64 link-local address (tentative
        // until duplicate address detection ends), and the daemon must cope with it.
        ip('-n', namespace, 'link', 'set', 'eth0', 'up');
        hosts.push({ namespace, address, prefix: ['ip', 'netns', 'exec', namespace] });
      }
      return new TestLan(bridge, hosts);
    } catch (error) {
      for (const namespace of made) spawnSync('ip', ['netns', 'del', namespace]);
      throw error;
    }
  }

  /** Adds an address to a host's eth0 while it runs (a DHCP lease, a second subnet); `cidr` as `ip addr` takes it. */
  addAddress(host: TestHost, cidr: string): void {
    execFileSync('ip', ['-n', host.namespace, 'addr', 'add', cidr, ...(cidr.includes(':') ? [] : ['brd', '+']), 'dev', 'eth0']);
  }

  removeAddress(host: TestHost, cidr: string): void {
    execFileSync('ip', ['-n', host.namespace, 'addr', 'del', cidr, 'dev', 'eth0']);
  }

  /** The host's addresses on eth0 as `ip -j addr` lists them (IPv6 link-local included). */
  addresses(host: TestHost): Array<{ family: string; local: string; prefixlen: number; scope: string; tentative?: boolean }> {
    const out = execFileSync('ip', ['-j', '-n', host.namespace, 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
    return (JSON.parse(out) as Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string; tentative?: boolean }> }>)[0]?.addr_info ?? [];
  }

  /** Whether `address:port` (UDP) is bound inside the host's namespace. */
  udpBound(host: TestHost, address: string, port: number): boolean {
    const result = spawnSync('ip', ['netns', 'exec', host.namespace, 'ss', '-Hlun', `src ${address}:${port}`], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.trim() !== '';
  }

  /** Whether a TCP listener is bound to `address` (as `ss` prints it, e.g. "[fe80::1]%eth0") and `port` inside the host's namespace. */
  tcpListening(host: TestHost, address: string, port: number): boolean {
    const result = spawnSync('ip', ['netns', 'exec', host.namespace, 'ss', '-Hltn'], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.split('\n').some((line) => line.split(/\s+/)[3] === `${address}:${port}`);
  }

  /** Removes every namespace (and so every veth and the bridge); stop the processes first. */
  destroy(): void {
    for (const host of this.hosts) spawnSync('ip', ['netns', 'del', host.namespace]);
    spawnSync('ip', ['netns', 'del', this.#bridge]);
  }
}
