/**
 * Local send benchmark: a real daemon (subprocess, its own temp data dir) and clients on its
 * control socket, every send durable (acknowledged after its commit), beside the durable floor
 * (floor.ts: the same JSON lines on a Unix socket, one fsync'd commit per request, nothing else).
 *
 *   npm run bench                      BENCH_SECONDS=5 BENCH_ROUNDS=3 by default
 *
 * Each round runs netsend and the floor in turn: sustained sends/s with 1 and 16 concurrent
 * clients, and send→stored latency at a paced 1,000 sends/s. The table gives medians over the
 * rounds, each ratio is taken within a round (median and range), and the daemon's own probe
 * (probe.ts: event-loop delay and GC pauses during the paced run) says where its tail comes
 * from. The daemon runs in a loopback-only network namespace as root, with every default on; else
 * with its LAN listeners off, so it never answers or broadcasts on this machine's interfaces.
 * Ends with one `BENCH_RESULT {json}` line.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Client } from '../src/lib/client.js';
import { startBenchDaemon, stopChild, type BenchDaemon } from './daemon.js';
import { floorClient, startFloor } from './floor-client.js';
import { benchResult, median, percentile, printed, ratioSummary } from './stats.js';
import type { ProbeReport } from './probe.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PACED_PER_SECOND = 1000;

/** What the benchmark asks of a server: send one message and wait for its acknowledgement. */
interface Target {
  label: string;
  key: string;
  open(): Promise<{ send(text: string): Promise<unknown>; close(): Promise<void> }>;
}

/** Each client sends one message at a time, as fast as acknowledgements come back. */
async function sustained(target: Target, clients: number): Promise<number> {
  const connections = await Promise.all(Array.from({ length: clients }, () => target.open()));
  const deadline = performance.now() + SECONDS * 1000;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (client, i) => {
      while (performance.now() < deadline) {
        await client.send(`client ${i} message ${sent}`);
        sent++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(connections.map((c) => c.close()));
  return sent / elapsed;
}

/** Open loop: one send every millisecond, whatever the previous ones are doing. Sorted latencies. */
async function paced(target: Target): Promise<number[]> {
  const client = await target.open();
  const latencies: number[] = [];
  const total = PACED_PER_SECOND * SECONDS;
  const interval = 1000 / PACED_PER_SECOND;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    inFlight.push(client.send(`paced ${i}`).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(inFlight);
  await client.close();
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-bench-'));
  let bench: BenchDaemon | undefined;
  let floor: ChildProcess | undefined;
  try {
    bench = await startBenchDaemon(join(dir, 'netsend'));
    const rssMiB = bench.rssMiB;
    const started = await startFloor('lines', dir);
    floor = started.child;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = printed(await rssMiB(), 1);
    const netsend: Target = {
      label: 'netsend',
      key: 'netsend',
      open: async () => {
        const client: Client = await connect({ dataDir: join(dir, 'netsend') });
        return { send: (text) => client.send({ to: 'BENCH', text }), close: () => client.close() };
      },
    };
    const floorTarget: Target = { label: 'durable floor', key: 'floor', open: () => floorClient(started.socket) };

    const rows: { round: number; target: string; clients1: number; clients16: number; latencies: number[]; probe?: ProbeReport }[] = [];
    let peakRss = idle;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of [netsend, floorTarget]) {
        const clients1 = await sustained(target, 1);
        const clients16 = await sustained(target, 16);
        if (target === netsend) {
          peakRss = Math.max(peakRss, await rssMiB());
          await bench.probe();
        }
        const latencies = await paced(target);
        rows.push({ round, target: target.key, clients1, clients16, latencies, ...(target === netsend ? { probe: await bench.probe() } : {}) });
      }
    }
    const after = printed(await rssMiB(), 1);

    const figures: Record<string, number | string> = { seconds: SECONDS, rounds: ROUNDS, pacedSendsPerSecond: PACED_PER_SECOND, listeners: bench.listeners };
    console.log(`netsend local send benchmark: ${ROUNDS} round(s) of ${SECONDS} s per server and run, durable (WAL, each commit's log on disk before its reply), node ${process.version}`);
    console.log(`  daemon listeners: ${figures.listeners}\n`);
    console.log(`  ${'server'.padEnd(14)} ${'1 client/s'.padStart(11)} ${'16 clients/s'.padStart(13)}   paced ${PACED_PER_SECOND}/s: ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}`);
    for (const target of [netsend, floorTarget]) {
      const mine = rows.filter((r) => r.target === target.key);
      const of = (p: number) => printed(median(mine.map((r) => percentile(r.latencies, p))), 3);
      const [c1, c16] = [Math.round(median(mine.map((r) => r.clients1))), Math.round(median(mine.map((r) => r.clients16)))];
      const [p50, p99, max] = [of(50), of(99), of(100)];
      Object.assign(figures, { [`${target.key}Clients1SendsPerSecond`]: c1, [`${target.key}Clients16SendsPerSecond`]: c16, [`${target.key}PacedP50Ms`]: p50, [`${target.key}PacedP99Ms`]: p99, [`${target.key}PacedMaxMs`]: max });
      console.log(`  ${target.label.padEnd(14)} ${c1.toLocaleString('en-US').padStart(11)} ${c16.toLocaleString('en-US').padStart(13)}   ${' '.repeat(13)}${p50.toFixed(3).padStart(7)} ${p99.toFixed(3).padStart(7)} ${max.toFixed(3).padStart(7)}`);
    }
    const pairs = Array.from({ length: ROUNDS }, (_, i) => {
      const of = (key: string) => rows.find((r) => r.round === i + 1 && r.target === key) as (typeof rows)[number];
      return { ours: of('netsend'), floor: of('floor') };
    });
    console.log('\n  paced runs round by round (p99 netsend / floor; the daemon\'s event-loop delay max, GC pauses):');
    for (const [i, { ours, floor }] of pairs.entries()) {
      const p = ours.probe;
      console.log(
        `    round ${i + 1}: ${percentile(ours.latencies, 99).toFixed(3)} / ${percentile(floor.latencies, 99).toFixed(3)} ms; ` +
          `loop ${p?.loopDelayMaxMs ?? '?'} ms, ${p?.gcCount ?? '?'} GC pauses (the longest ${p?.gcMaxMs ?? '?'} ms); ` +
          `netsend sends over 5 ms: ${ours.latencies.filter((ms) => ms > 5).length}`,
      );
    }
    console.log(`\n  netsend paced p99 ÷ the durable floor's: ${ratioSummary('pacedP99ToFloor', pairs.map((p) => percentile(p.ours.latencies, 99) / percentile(p.floor.latencies, 99)), figures)}`);
    console.log(`  netsend 16-client throughput ÷ the floor's: ${ratioSummary('clients16ToFloor', pairs.map((p) => p.ours.clients16 / p.floor.clients16), figures)}`);
    const probes = rows.flatMap((r) => (r.probe ? [r.probe] : []));
    const probeMedian = (key: keyof ProbeReport) => printed(median(probes.map((p) => p[key])), 3);
    for (const key of ['loopDelayP99Ms', 'loopDelayMaxMs', 'gcCount', 'gcTotalMs', 'gcMaxMs'] as const) figures[`pacedDaemon${key[0]?.toUpperCase()}${key.slice(1)}`] = probeMedian(key);
    console.log(
      `  the daemon during the paced runs (medians): event-loop delay p99 ${probeMedian('loopDelayP99Ms')} ms, max ${probeMedian('loopDelayMaxMs')} ms; ` +
        `${probeMedian('gcCount')} GC pauses, ${probeMedian('gcTotalMs')} ms in all, the longest ${probeMedian('gcMaxMs')} ms`,
    );
    console.log(`  daemon RSS idle ${idle.toFixed(1)} MiB, peak ${peakRss.toFixed(1)} MiB, after the runs ${after.toFixed(1)} MiB`);
    return { ...figures, idleRssMiB: idle, peakRssMiB: printed(peakRss, 1), afterRssMiB: after };
  } finally {
    await bench?.stop();
    if (floor) await stopChild(floor);
    await rm(dir, { recursive: true, force: true });
  }
}

// after the daemon is stopped: nothing comes after this line
benchResult('local', await main());
