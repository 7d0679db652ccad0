/**
 * Local send benchmark: a real daemon (subprocess, its own temp data dir) and clients on its
 * control socket, every send durable (acknowledged after its commit).
 *
 *   npm run bench                      BENCH_SECONDS=10 by default
 *
 * Prints sustained sends/s with 1 and 16 concurrent clients, the send→stored latency (the
 * acknowledgement comes after the commit) at a paced 1,000 sends/s, and the daemon's RSS. Ends
 * with one `BENCH_RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type Client } from '../src/lib/client.js';
import { benchResult, percentile } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const NETSEND = fileURLToPath(new URL('../src/cli/netsend.js', import.meta.url));
const PACED_PER_SECOND = 1000;
/** A figure as printed (`digits` decimals), as a number for the BENCH_RESULT line. */
const printed = (x: number, digits: number) => Number(x.toFixed(digits));

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Each client sends one message at a time, as fast as acknowledgements come back. */
async function sustained(dataDir: string, clients: number, pid: number): Promise<{ rate: number; rss: number }> {
  const connections: Client[] = await Promise.all(Array.from({ length: clients }, () => connect({ dataDir })));
  const deadline = Date.now() + SECONDS * 1000;
  let sent = 0;
  let peakRss = 0;
  const sampler = setInterval(() => void rssMiB(pid).then((r) => (peakRss = Math.max(peakRss, r))), 250);
  const started = performance.now();
  await Promise.all(
    connections.map(async (client, i) => {
      while (Date.now() < deadline) {
        await client.send({ to: 'BENCH', text: `client ${i} message ${sent}` });
        sent++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await Promise.all(connections.map((c) => c.close()));
  return { rate: sent / elapsed, rss: peakRss };
}

/** Open loop: one send every millisecond, whatever the previous ones are doing. */
async function paced(dataDir: string, perSecond: number): Promise<number[]> {
  const client = await connect({ dataDir });
  const latencies: number[] = [];
  const total = perSecond * SECONDS;
  const interval = 1000 / perSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    inFlight.push(client.send({ to: 'BENCH', text: `paced ${i}` }).then(() => void latencies.push(performance.now() - t0)));
  }
  await Promise.all(inFlight);
  await client.close();
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<Record<string, number>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ns-bench-'));
  const daemon = spawn(process.execPath, [NETSEND, 'serve', '--data-dir', dataDir, '--terminal', 'no', '--netbios-name', 'BENCH'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      daemon.stderr.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (log.includes('Messenger service started')) resolve();
      });
      daemon.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${log}`)));
      setTimeout(() => reject(new Error('daemon did not start in 10 s')), 10_000).unref();
    });
    const pid = daemon.pid as number;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = printed(await rssMiB(pid), 1);
    const figures: Record<string, number> = { seconds: SECONDS };

    console.log(`netsend local send benchmark (${SECONDS} s per run, durable: WAL, synchronous=FULL; node ${process.version})`);
    for (const clients of [1, 16]) {
      const run = await sustained(dataDir, clients, pid);
      const rate = Math.round(run.rate);
      const rss = printed(run.rss, 1);
      figures[`clients${clients}SendsPerSecond`] = rate;
      figures[`clients${clients}RssPeakMiB`] = rss;
      console.log(`  ${String(clients).padStart(2)} client(s):  ${rate.toLocaleString('en-US').padStart(7)} sends/s   daemon RSS peak ${rss.toFixed(1)} MiB`);
    }
    const latencies = await paced(dataDir, PACED_PER_SECOND);
    const [p50, p99, max] = [50, 99, 100].map((p) => printed(percentile(latencies, p), 3)) as [number, number, number];
    console.log(
      `  paced ${PACED_PER_SECOND.toLocaleString('en-US')} sends/s: send→stored latency p50 ${p50.toFixed(3)} ms, ` +
        `p99 ${p99.toFixed(3)} ms, max ${max.toFixed(3)} ms (${latencies.length} sends)`,
    );
    const after = printed(await rssMiB(pid), 1);
    console.log(`  daemon RSS idle ${idle.toFixed(1)} MiB, after the runs ${after.toFixed(1)} MiB`);
    return { ...figures, pacedSendsPerSecond: PACED_PER_SECOND, pacedSends: latencies.length, pacedP50Ms: p50, pacedP99Ms: p99, pacedMaxMs: max, idleRssMiB: idle, afterRssMiB: after };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

// after the daemon is stopped: nothing comes after this line
benchResult('local', await main());
