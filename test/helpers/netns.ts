import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Network namespaces that tests create and remove themselves. A namespace with only `lo` up has
 * its own 127.0.0.1 and its own ports 137-139, so a test can run a daemon on port 139 without
 * touching the machine's interfaces or colliding with anything.
 */
let counter = 0;

/** Why namespace tests cannot run here, or null when they can (root and iproute2). */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return `iproute2's "ip netns" is unavailable: ${probe.error?.message ?? probe.stderr}`;
  return null;
}

export class LoopbackNamespace {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  static create(): LoopbackNamespace {
    const name = `nstest-${process.pid}-${counter++}`;
    execFileSync('ip', ['netns', 'add', name]);
    try {
      execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      execFileSync('ip', ['netns', 'del', name]);
      throw error;
    }
    return new LoopbackNamespace(name);
  }

  /** The argv prefix that runs a command inside the namespace (ip execs it: same PID). */
  get prefix(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** Whether something listens on `address:port` (TCP) inside the namespace. */
  listening(address: string, port: number): boolean {
    const result = spawnSync('ip', ['netns', 'exec', this.name, 'ss', '-Hltn', `src ${address}:${port}`], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.trim() !== '';
  }

  /** Removes the namespace; the processes started in it must have been stopped by then. */
  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/** Polls `condition` every 50 ms for at most `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
