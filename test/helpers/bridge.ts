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
        ip('-n', namespace, 'link', 'set', 'eth0', 'up');
        // No IPv6 on the test LAN: keeps captures free of router solicitations
        execFileSync('ip', ['netns', 'exec', namespace, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
        hosts.push({ namespace, address, prefix: ['ip', 'netns', 'exec', namespace] });
      }
      return new TestLan(bridge, hosts);
    } catch (error) {
      for (const namespace of made) spawnSync('ip', ['netns', 'del', namespace]);
      throw error;
    }
  }

  /** Whether `address:port` (UDP) is bound inside the host's namespace. */
  udpBound(host: TestHost, address: string, port: number): boolean {
    const result = spawnSync('ip', ['netns', 'exec', host.namespace, 'ss', '-Hlun', `src ${address}:${port}`], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.trim() !== '';
  }

  /** Removes every namespace (and so every veth and the bridge); stop the processes first. */
  destroy(): void {
    for (const host of this.hosts) spawnSync('ip', ['netns', 'del', host.namespace]);
    spawnSync('ip', ['netns', 'del', this.#bridge]);
  }
}
