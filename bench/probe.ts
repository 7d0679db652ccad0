/**
 * Loaded into a benchmarked daemon with `node --import` (NODE_OPTIONS), to see where its tail
 * comes from without changing the daemon: the main thread's event-loop delay and its GC pauses.
 * On SIGUSR2 it writes what it saw since the last SIGUSR2 to the file named by
 * NETSEND_BENCH_PROBE (JSON, times in ms) and starts again.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface ProbeReport {
  /** Event-loop delay percentiles: how late a 1 ms timer fired (its interval less the 1 ms), ms. */
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  heapUsedMiB: number;
  rssMiB: number;
}

const out = process.env.NETSEND_BENCH_PROBE;
if (out !== undefined) {
  const RESOLUTION_MS = 1;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
  const ms = (ns: number) => Number((ns / 1e6).toFixed(3));
  // the histogram holds the intervals between the timer's runs: less its own 1 ms, the lateness
  const late = (ns: number) => Math.max(0, Number((ms(ns) - RESOLUTION_MS).toFixed(3)));
  const mib = (bytes: number) => Number((bytes / 1048576).toFixed(1));
  process.on('SIGUSR2', () => {
    const memory = process.memoryUsage();
    const report: ProbeReport = {
      loopDelayP50Ms: late(delay.percentile(50)),
      loopDelayP99Ms: late(delay.percentile(99)),
      loopDelayMaxMs: late(delay.max),
      gcCount: gcPauses.length,
      gcTotalMs: Number(gcPauses.reduce((a, b) => a + b, 0).toFixed(3)),
      gcMaxMs: Number(Math.max(0, ...gcPauses).toFixed(3)),
      heapUsedMiB: mib(memory.heapUsed),
      rssMiB: mib(memory.rss),
    };
    writeFileSync(out, JSON.stringify(report));
    delay.reset();
    gcPauses = [];
  });
}
