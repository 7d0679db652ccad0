/**
 * The benchmarks' daemon: `netsend serve` as a subprocess on its own data dir, with the probe
 * (probe.ts) loaded. As root it runs in a loopback-only network namespace with every listener at
 * its default, as on a real host; else with its LAN listeners off, so that a benchmark never
 * answers or broadcasts on this machine's interfaces.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { LoopbackNamespace, netnsUnavailable } from '../test/helpers/netns.js';
import type { ProbeReport } from './probe.js';

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

export interface BenchDaemon {
  daemon: DaemonProcess;
  pid: number;
  /** Where its listeners are: "defaults, in a loopback namespace" or "LAN off". */
  listeners: string;
  /** What its probe saw since it was last asked (or since the start): event-loop delay, GC pauses. */
  probe(): Promise<ProbeReport>;
  /** Its resident memory now, MiB. */
  rssMiB(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Stops a child the benchmark started, by its own handle: SIGTERM (or `gently`, e.g. closing its
 * standard input), SIGKILL after 10 s; resolves at once for one that already exited.
 */
export async function stopChild(child: ChildProcess, gently: () => void = () => child.kill('SIGTERM')): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  gently();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A process's resident memory now, MiB. */
export async function rssMiB(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

export async function startBenchDaemon(dataDir: string, args: readonly string[] = [], options: { timeoutMs?: number } = {}): Promise<BenchDaemon> {
  const inNamespace = netnsUnavailable() === null;
  const ns = inNamespace ? LoopbackNamespace.create() : undefined;
  const probeFile = `${dataDir}.probe.json`;
  const env = {
    NODE_OPTIONS: `--import=${PROBE}`,
    NETSEND_BENCH_PROBE: probeFile,
    // the test helper turns these two off; in a namespace of its own the daemon keeps its defaults
    ...(inNamespace ? { NETSEND_SECURE_PORT: '4139', NETSEND_HTTP_PORT: '8139' } : {}),
  };
  const lanOff = inNamespace ? [] : ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0'];
  const quiet = ['--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no', '--netbios-name', 'BENCH'];
  let daemon: DaemonProcess;
  try {
    daemon = await DaemonProcess.start(dataDir, [...quiet, ...lanOff, ...args], { env, ...(ns ? { prefix: ns.prefix } : {}), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  } catch (error) {
    ns?.destroy();
    throw error;
  }
  const pid = daemon.child.pid as number;
  return {
    daemon,
    pid,
    listeners: inNamespace ? 'defaults, in a loopback namespace' : 'LAN off',
    probe: async () => {
      await rm(probeFile, { force: true });
      process.kill(pid, 'SIGUSR2');
      // bounded: the probe writes within milliseconds; 5 s means it is not there
      for (const deadline = Date.now() + 5000; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
        try {
          return JSON.parse(await readFile(probeFile, 'utf8')) as ProbeReport;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      }
    },
    rssMiB: () => rssMiB(pid),
    stop: async () => {
      await daemon.stop();
      ns?.destroy();
      await rm(probeFile, { force: true });
    },
  };
}
