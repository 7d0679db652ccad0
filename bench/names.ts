/**
 * `npm run bench:names` (root): the name service under load and broadcast reach, on private LANs
 * of network namespaces (10.77.0.0/24, nowhere else).
 *   1. Unicast name queries answered per second, netsend against Samba's nmbd, one client
 *      (bench/names-load.ts) with 16 queries in flight.
 *   2. The time for one NET SEND * to reach all of 8 netsend daemons.
 * Ends with one `BENCH_RESULT {json}` line (with `skipped` and why where it cannot run).
 *
 *   BENCH_SECONDS=5 npm run bench:names
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../src/lib/client.js';
import { TestLan } from '../test/helpers/bridge.js';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { netnsUnavailable, waitUntil } from '../test/helpers/netns.js';
import { SambaHost, sambaUnavailable } from '../test/helpers/samba.js';
import { benchResult, printed } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LOAD = fileURLToPath(new URL('./names-load.js', import.meta.url));
/** Queries the load client keeps in flight. */
const WINDOW = 16;
/** How often the broadcast test looks at the daemons' terminals. */
const POLL_MS = 2;

async function queries(dir: string): Promise<Record<string, number>> {
  const lan = TestLan.create(3);
  const [ours, theirs, client] = lan.hosts as [(typeof lan.hosts)[0], (typeof lan.hosts)[0], (typeof lan.hosts)[0]];
  let daemon: DaemonProcess | undefined;
  let samba: SambaHost | undefined;
  const figures: Record<string, number> = { seconds: SECONDS, inFlight: WINDOW };
  try {
    daemon = await DaemonProcess.start(join(dir, 'netsend'), ['--interfaces', 'eth0', '--terminal', 'no', '--source-query-rate', '1000000', '--source-query-burst', '1000000'], { prefix: ours.prefix, env: { NETSEND_NETBIOS_NAME: 'NSHOST' } });
    samba = await SambaHost.start(join(dir, 'samba'), theirs.prefix, { netbiosName: 'SAMBAHOST' });
    await waitUntil(() => lan.udpBound(theirs, theirs.address, 137), 20_000, 'nmbd to listen');
    await new Promise((resolve) => setTimeout(resolve, 7000)); // nmbd registers its names (3 × 2 s) before it answers for them
    console.log(`Unicast name queries, one client with ${WINDOW} in flight, ${SECONDS} s each (node ${process.version})`);
    for (const [label, key, target, name] of [['netsend', 'netsend', ours.address, 'NSHOST'], ['Samba nmbd', 'nmbd', theirs.address, 'SAMBAHOST']] as const) {
      const run = spawnSync(client.prefix[0] as string, [...client.prefix.slice(1), process.execPath, LOAD, JSON.stringify({ target, name, suffix: 0x20, seconds: SECONDS, window: WINDOW })], {
        encoding: 'utf8',
        timeout: (SECONDS + 30) * 1000,
      });
      if (run.status !== 0) throw new Error(`the query client failed: ${run.stderr}`);
      const r = JSON.parse(run.stdout) as { answered: number; perSecond: number; p50: number; p99: number };
      const [perSecond, p50, p99] = [Math.round(r.perSecond), printed(r.p50, 3), printed(r.p99, 3)];
      figures[`${key}AnswersPerSecond`] = perSecond;
      figures[`${key}P50Ms`] = p50;
      figures[`${key}P99Ms`] = p99;
      console.log(`  ${label.padEnd(12)} ${perSecond.toLocaleString('en-US').padStart(8)} answers/s   p50 ${p50.toFixed(3)} ms   p99 ${p99.toFixed(3)} ms`);
    }
    return figures;
  } finally {
    await daemon?.stop();
    await samba?.stop();
    lan.destroy();
  }
}

async function broadcastReach(dir: string, hosts = 8, rounds = 5): Promise<Record<string, number>> {
  const lan = TestLan.create(hosts);
  const daemons: DaemonProcess[] = [];
  try {
    daemons.push(
      ...(await Promise.all(
        lan.hosts.map((host, i) => DaemonProcess.start(join(dir, `reach${i}`), ['--interfaces', 'eth0'], { prefix: host.prefix, env: { NETSEND_NETBIOS_NAME: `REACH${i}` } })),
      )),
    );
    const client = await connect({ dataDir: (daemons[0] as DaemonProcess).dataDir });
    const times: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const text = `reach test ${round}`;
      const t0 = performance.now();
      await client.broadcast({ text });
      // Polled every POLL_MS, bounded at 10 s.
      while (!daemons.every((d) => d.stdout.includes(text)) && performance.now() - t0 < 10_000) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!daemons.every((d) => d.stdout.includes(text))) throw new Error('a daemon never showed the broadcast');
      times.push(performance.now() - t0);
    }
    await client.close();
    times.sort((a, b) => a - b);
    const [medianMs, worstMs] = [printed(times[Math.floor(times.length / 2)] ?? NaN, 1), printed(times.at(-1) ?? NaN, 1)];
    console.log(`\nNET SEND * to ${hosts} netsend daemons on one LAN (${rounds} rounds, shown on every daemon's terminal)`);
    console.log(`  median ${medianMs.toFixed(1)} ms, worst ${worstMs.toFixed(1)} ms (polled every ${POLL_MS} ms)`);
    return { broadcastDaemons: hosts, broadcastRounds: rounds, broadcastMedianMs: medianMs, broadcastWorstMs: worstMs, broadcastPollMs: POLL_MS };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    lan.destroy();
  }
}

const unavailable = netnsUnavailable() ?? sambaUnavailable();
if (unavailable) {
  console.error(`bench:names cannot run here: ${unavailable}`);
  benchResult('names', { skipped: unavailable });
  process.exitCode = 1;
} else {
  const dir = await mkdtemp(join(tmpdir(), 'ns-bench-names-'));
  let figures: Record<string, number>;
  try {
    figures = { ...(await queries(dir)), ...(await broadcastReach(dir)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  benchResult('names', figures);
}
