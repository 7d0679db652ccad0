/**
 * `npm run bench:scale`: what grows with the inbox. For each size N (10k, 100k and 1M stored
 * messages by default) a fresh data dir is filled in-process through the store's own insert, then
 * a real daemon runs on it:
 *
 * - the expiry sweep's page of 200 waiting messages, at the start and the end of a walk over all N;
 * - the daemon's start time and idle RSS; a send's latency (sequential sends, send→stored);
 * - `netsend inbox --limit 10` and `netsend inbox --json` (the whole inbox, to /dev/null): wall
 *   time and the CLI's peak RSS;
 * - a backlog of N messages that expired while the daemon was off: the time until its first sweep
 *   has marked what one sweep marks (10,000, or all of them), and a send's latency meanwhile.
 *
 *   BENCH_SCALE_SIZES=10000,100000,1000000 npm run bench:scale
 *
 * Ends with one `BENCH_RESULT {json}` line (keys suffixed with the size: `sendP99Ms_1000000`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirPaths } from '../src/config/paths.js';
import { connect, type Client } from '../src/lib/client.js';
import type { SweepCursor } from '../src/messenger/receipts.js';
import { senderOf } from '../src/messenger/sender.js';
import { SqliteDatabase } from '../src/store/database.js';
import { NETSEND_BIN } from '../test/helpers/daemon.js';
import { startBenchDaemon } from './daemon.js';
import { benchResult, percentile, printed } from './stats.js';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PAGE = 200;
const HOUR = 3_600_000;
const SENDS = 200;
/** The longest the expired backlog may take to be marked before the run gives up on it. */
const BACKLOG_TIMEOUT_MS = 10 * 60_000;
/** Expired messages one sweep marks (Receipts: 50 pages of 200); the rest follow a sweep (10 s) later. */
const MARKED_PER_SWEEP = 10_000;
const TEXT = 'a message of about the length people send: the meeting moved to three, room 4';

/**
 * Fills a new data dir with `n` messages to BENCH, received over the hour before `now`, each
 * expiring at `expiresAt(i)`. Returns the last message's id.
 */
async function fill(dataDir: string, n: number, now: number, expiresAt: (i: number) => number): Promise<number> {
  await mkdir(dataDir, { recursive: true });
  const db = new SqliteDatabase(dataDirPaths(dataDir).database);
  let last = 0;
  try {
    const sender = senderOf({ uid: 0 });
    for (let start = 0; start < n; start += 10_000) {
      const batch = Array.from({ length: Math.min(10_000, n - start) }, (_, k) => {
        const i = start + k;
        return { message: { from: 'SENDER', to: 'BENCH', text: `${TEXT} (${i})`, via: 'local' as const, sender, expiresAt: expiresAt(i) }, receivedAt: now - 2 * HOUR + Math.floor((i / n) * HOUR) };
      });
      last = db.areas.messages.insertMessages(batch).at(-1)?.id ?? last;
    }
  } finally {
    db.close();
  }
  return last;
}

/** Walks every waiting message in pages as the daemon's sweep does: the mean cost of the first and last 50 pages, and the worst. */
function sweepWalk(dataDir: string, now: number): { first50Ms: number; last50Ms: number; worstMs: number; pages: number } {
  const db = new SqliteDatabase(dataDirPaths(dataDir).database);
  try {
    const times: number[] = [];
    let cursor: SweepCursor | null = null;
    // bounded: one page more than the walk needs
    for (let page = 0; page < 10_000_000 / PAGE; page++) {
      const started = performance.now();
      const found = db.areas.events.waitingMessages(cursor, now, now, PAGE);
      times.push(performance.now() - started);
      const last = found.at(-1);
      if (last === undefined) break;
      cursor = { expiresAt: last.expiresAt ?? now, id: last.id };
    }
    const mean = (values: number[]) => printed(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), 3);
    return { first50Ms: mean(times.slice(0, 50)), last50Ms: mean(times.slice(-51, -1)), worstMs: printed(Math.max(...times), 3), pages: times.length };
  } finally {
    db.close();
  }
}

/** Runs the CLI with its output to /dev/null: wall time (s) and peak RSS (MiB, null without GNU time). */
function cli(args: string[], dataDir: string): { seconds: number; peakMiB: number | null } {
  const timeFile = `${dataDir}.time`;
  const gnuTime = existsSync('/usr/bin/time');
  const argv = [...(gnuTime ? ['/usr/bin/time', '-f', '%M', '-o', timeFile] : []), process.execPath, NETSEND_BIN, ...args, '--data-dir', dataDir];
  const started = performance.now();
  const run = spawnSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10 * 60_000 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`netsend ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}`);
  return { seconds: printed(seconds, 2), peakMiB: gnuTime ? printed(Number(readFileSync(timeFile, 'utf8').trim()) / 1024, 1) : null };
}

/** Sends one message at a time `count` times (or until `until` says stop): send→stored latencies, sorted. */
async function sends(client: Client, count: number, until: () => boolean = () => false): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count && !until(); i++) {
    const started = performance.now();
    await client.send({ to: 'BENCH', text: `${TEXT} (send ${i})` });
    latencies.push(performance.now() - started);
  }
  return latencies.sort((a, b) => a - b);
}

async function atSize(n: number, dir: string, figures: Record<string, unknown>): Promise<string[]> {
  const lines: string[] = [];
  const set = (key: string, value: number | null) => (figures[`${key}_${n}`] = value);
  const now = Date.now();

  // N waiting: received over the last two hours, alive for a day
  const waitingDir = join(dir, `waiting-${n}`);
  let started = performance.now();
  await fill(waitingDir, n, now, (i) => now + 22 * HOUR + i);
  const fillSeconds = printed((performance.now() - started) / 1000, 1);
  const walk = sweepWalk(waitingDir, now);
  set('sweepFirst50PagesMs', walk.first50Ms);
  set('sweepLast50PagesMs', walk.last50Ms);
  set('sweepWorstPageMs', walk.worstMs);

  started = performance.now();
  const daemon = await startBenchDaemon(waitingDir, [], { timeoutMs: 120_000 });
  let client: Client | undefined;
  try {
    const startSeconds = printed((performance.now() - started) / 1000, 2);
    set('startSeconds', startSeconds);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    set('idleRssMiB', printed(await daemon.rssMiB(), 1));
    client = await connect({ dataDir: waitingDir });
    const latencies = await sends(client, SENDS);
    set('sendP50Ms', printed(percentile(latencies, 50), 3));
    set('sendP99Ms', printed(percentile(latencies, 99), 3));
    const limited = cli(['inbox', '--limit', '10'], waitingDir);
    set('inboxLimit10Seconds', limited.seconds);
    set('inboxLimit10PeakMiB', limited.peakMiB);
    const whole = cli(['inbox', '--json'], waitingDir);
    set('inboxAllSeconds', whole.seconds);
    set('inboxAllPeakMiB', whole.peakMiB);
    lines.push(
      `  ${n.toLocaleString('en-US')} stored (filled in ${fillSeconds} s)`,
      `    sweep page of ${PAGE} waiting: first 50 pages ${walk.first50Ms} ms each, last 50 ${walk.last50Ms} ms, worst ${walk.worstMs} ms (${walk.pages} pages)`,
      `    daemon: started in ${startSeconds} s, idle RSS ${figures[`idleRssMiB_${n}`]} MiB; a send p50 ${figures[`sendP50Ms_${n}`]} ms, p99 ${figures[`sendP99Ms_${n}`]} ms`,
      `    netsend inbox --limit 10: ${limited.seconds} s, peak RSS ${limited.peakMiB ?? '?'} MiB; netsend inbox --json (all): ${whole.seconds} s, peak RSS ${whole.peakMiB ?? '?'} MiB`,
    );
  } finally {
    await client?.close();
    await daemon.stop();
    await rm(waitingDir, { recursive: true, force: true });
  }

  // N expired while the daemon was off: its first sweep marks them, a page after another
  const expiredDir = join(dir, `expired-${n}`);
  await fill(expiredDir, n, now, (i) => now - HOUR + Math.floor((i / n) * (HOUR / 2)));
  // a fresh store numbers them 1…n in the order they expired, the order the sweep marks them in
  const firstSweep = Math.min(n, MARKED_PER_SWEEP);
  started = performance.now();
  const marker = await startBenchDaemon(expiredDir, [], { timeoutMs: 120_000 });
  let watcher: Client | undefined;
  try {
    watcher = await connect({ dataDir: expiredDir });
    const sender = await connect({ dataDir: expiredDir });
    let marked = false;
    // sends one at a time while the backlog is marked, to see what it costs them
    const during = sends(sender, 1_000_000, () => marked);
    // bounded: BACKLOG_TIMEOUT_MS
    while (!marked && performance.now() - started < BACKLOG_TIMEOUT_MS) {
      marked = (await watcher.receipt(firstSweep)).state === 'expired';
      if (!marked) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = marked ? printed((performance.now() - started) / 1000, 1) : null;
    marked = true;
    const latencies = await during;
    await sender.close();
    set('expiredFirstSweepSeconds', seconds);
    set('expiredFirstSweepMarked', firstSweep);
    set('sendDuringBacklogP99Ms', printed(percentile(latencies, 99), 3));
    lines.push(
      `    ${n.toLocaleString('en-US')} expired while the daemon was off: ${firstSweep === n ? 'all' : `the first ${firstSweep.toLocaleString('en-US')} (one sweep)`} marked ${seconds === null ? `NOT within ${BACKLOG_TIMEOUT_MS / 60_000} min` : `${seconds} s after start`}; ` +
        `meanwhile a send p99 ${figures[`sendDuringBacklogP99Ms_${n}`]} ms (${latencies.length} sends)`,
    );
  } finally {
    await watcher?.close();
    await marker.stop();
    await rm(expiredDir, { recursive: true, force: true });
  }
  return lines;
}

async function main(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-scale-'));
  const figures: Record<string, unknown> = { sizes: SIZES.join(','), sweepPageSize: PAGE, sends: SENDS };
  try {
    console.log(`netsend at inbox sizes ${SIZES.map((n) => n.toLocaleString('en-US')).join(', ')} (node ${process.version})`);
    for (const n of SIZES) for (const line of await atSize(n, dir, figures)) console.log(line);
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// after every daemon is stopped: nothing comes after this line
benchResult('scale', await main());
