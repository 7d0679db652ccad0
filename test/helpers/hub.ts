/** Netsend hosts on a hub cluster, for the hub's end-to-end tests. */
import { DaemonProcess, tempDataDir } from './daemon.js';
import { NatsCluster } from './nats.js';

/** No LAN: names and messages cross only through the hub, as between two sites. */
export const NO_LAN = ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no'];

/** Starts a daemon named `name` on the cluster and waits until it has joined the realm. */
export async function hubHost(name: string, cluster: NatsCluster, dir: string, options: { joined?: boolean; args?: readonly string[] } = {}): Promise<DaemonProcess> {
  // `args` come last: a flag given again there (--smb-ports) takes the place of NO_LAN's
  const daemon = await DaemonProcess.start(dir, [...NO_LAN, '--hub-servers', cluster.urls.join(','), ...(options.args ?? [])], { env: { NETSEND_NETBIOS_NAME: name }, timeoutMs: 20_000 });
  if (options.joined !== false) {
    try {
      await daemon.waitFor(() => daemon.stderr.includes('hub: joined realm'), 30_000, `${name} to join the hub`);
    } catch (error) {
      // a daemon that never joined is the test's failure, not a process left running after it
      await daemon.stop();
      throw error;
    }
  }
  return daemon;
}

/** The inbox as `netsend inbox --json` prints it: one JSON object per line. */
export async function inbox(daemon: DaemonProcess): Promise<Array<Record<string, unknown>>> {
  const listed = await daemon.cli(['inbox', '--json']);
  return listed.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Polls the inbox until `count` messages whose text passes `match` are there (bounded). */
export async function waitForMessages(daemon: DaemonProcess, match: (text: string) => boolean, count: number, timeoutMs = 20_000): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await inbox(daemon)).filter((m) => typeof m.text === 'string' && match(m.text));
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`${found.length} of ${count} messages arrived within ${timeoutMs} ms:\n${daemon.stderr.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A 3-node cluster and one daemon per name on it, each joined, each with its own data dir. */
export async function startRealm(names: readonly string[]): Promise<{ cluster: NatsCluster; daemons: DaemonProcess[]; stop(current: ReadonlyArray<DaemonProcess | undefined>): Promise<void> }> {
  const cluster = await NatsCluster.start({ nodes: 3 });
  const dirs = await Promise.all(names.map(() => tempDataDir()));
  const cleanup = async () => {
    await cluster.stop();
    for (const dir of dirs) await dir.cleanup();
  };
  // every start is awaited, so a host that fails to join leaves none of the others running
  const started = await Promise.allSettled(names.map((name, i) => hubHost(name, cluster, (dirs[i] as { dir: string }).dir)));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    await cleanup();
    throw failed.reason;
  }
  const daemons = started.map((result) => (result as PromiseFulfilledResult<DaemonProcess>).value);
  return {
    cluster,
    daemons,
    // the daemons the test holds at its end (it may have restarted some), then the cluster and the dirs
    stop: async (current) => {
      await Promise.allSettled(current.map((daemon) => daemon?.stop()));
      await cleanup();
    },
  };
}
