/**
 * `npm run bench:smb`: SMB messages received per second and round trip, netsend against Samba's
 * smbd (its message command writing each message to a file), with one sending client for both
 * a bare TCP echo, and the durable floor (floor.ts: the same echo, with one fsync'd SQLite commit
 * of the text at each message's end, what no durable reply can skip). Runs in a loopback-only
 * network namespace (needs root): smbd on 127.0.0.1:139, netsend on 127.0.0.1:1139.
 *
 * Each mode runs BENCH_ROUNDS rounds, the three servers taking turns within a round; the table
 * gives the medians and each ratio is taken within a round (its median and range), since on a
 * shared machine one server's 5 s can fall in a quieter moment than another's.
 *
 *   BENCH_SECONDS=5 BENCH_CLIENTS=4 BENCH_ROUNDS=3 npm run bench:smb
 *
 * Ends with one `BENCH_RESULT {json}` line (with `skipped` and why where it cannot run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { senderOf } from '../src/messenger/sender.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fileURLToPath } from 'node:url';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { LoopbackNamespace, netnsUnavailable, waitUntil } from '../test/helpers/netns.js';
import { SmbdPeer, sambaUnavailable } from '../test/helpers/samba.js';
import { rssMiB, stopChild } from './daemon.js';
import { benchResult, median, percentile, printed, ratioSummary } from './stats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD = fileURLToPath(new URL('./smb-load.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url));
/** The BENCH_RESULT keys' prefixes for the load client's modes and servers. */
const MODE_KEYS: Record<string, string> = { 'one message per connection': 'perConnection', 'many messages per session': 'perSession' };
const SERVER_KEYS: Record<string, string> = { netsend: 'Netsend', 'Samba smbd': 'Smbd', 'TCP echo': 'Echo', 'durable floor': 'Floor' };

interface Row {
  label: string;
  mode: string;
  round: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
}

async function main(): Promise<Record<string, unknown>> {
  const unavailable = netnsUnavailable() ?? sambaUnavailable();
  if (unavailable) {
    console.error(`bench:smb cannot run here: ${unavailable}`);
    process.exitCode = 1;
    return { skipped: unavailable };
  }
  const dir = await mkdtemp(join(tmpdir(), 'ns-bench-smb-'));
  const ns = LoopbackNamespace.create();
  let daemon: DaemonProcess | undefined;
  let smbd: SmbdPeer | undefined;
  let echo: ReturnType<typeof spawn> | undefined;
  let floor: ReturnType<typeof spawn> | undefined;
  try {
    daemon = await DaemonProcess.start(join(dir, 'netsend'), ['--smb-ports', '1139', '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no', '--netbios-name', 'BENCH', '--source-message-rate', '100000', '--source-message-burst', '1000000', '--global-message-rate', '100000'], { prefix: ns.prefix });
    // the peers outlive the load client's own time limit, and no more
    // 2 modes × 4 servers a round, and time to spare
    const lifetime = SECONDS * 8 * ROUNDS + 120;
    // idle sessions first, on a daemon that has done nothing yet: its RSS moves only by them
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = await idleSessions(ns, daemon.child.pid as number);
    smbd = await SmbdPeer.start(join(dir, 'samba'), ns, 'BENCH', lifetime);
    echo = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), 'timeout', String(lifetime), process.execPath, '-e', "require('net').createServer((s) => s.pipe(s)).listen(1140, '127.0.0.1')"], { stdio: 'ignore' });
    floor = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), 'timeout', String(lifetime), process.execPath, FLOOR, 'nbss', '1141', join(dir, 'floor.db')], { stdio: 'ignore' });
    await waitUntil(() => ns.listening('127.0.0.1', 1140) && ns.listening('127.0.0.1', 1141), 10_000, 'the echo server and the durable floor');
    const targets = [
      { label: 'netsend', port: 1139 },
      { label: 'Samba smbd', port: 139 },
      { label: 'TCP echo', port: 1140, echo: true },
      { label: 'durable floor', port: 1141, echo: true },
    ];
    const load = spawnSync(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, LOAD, JSON.stringify({ targets, seconds: SECONDS, clients: CLIENTS, rounds: ROUNDS })], {
      encoding: 'utf8',
      timeout: (SECONDS * 8 * ROUNDS + 60) * 1000,
    });
    if (load.status !== 0) throw new Error(`the load client failed: ${load.stderr}`);
    const rows = load.stdout.trim().split('\n').map((line) => JSON.parse(line) as Row);
    const figures: Record<string, number> = { seconds: SECONDS, clients: CLIENTS, rounds: ROUNDS };
    console.log(`SMB message benchmark: ${CLIENTS} concurrent clients, ${ROUNDS} round(s) of ${SECONDS} s per server and mode, loopback in a private namespace (node ${process.version})`);
    for (const mode of new Set(rows.map((r) => r.mode))) {
      const inMode = rows.filter((r) => r.mode === mode);
      const modeKey = MODE_KEYS[mode] ?? mode;
      console.log(`\n  ${mode} (medians of ${ROUNDS} round(s))`);
      console.log(`    ${'server'.padEnd(18)} ${'messages/s'.padStart(11)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
      for (const { label } of targets) {
        const mine = inMode.filter((r) => r.label === label);
        const rate = Math.round(median(mine.map((r) => r.messagesPerSecond)));
        const p50 = printed(median(mine.map((r) => r.p50)), 3);
        const p99 = printed(median(mine.map((r) => r.p99)), 3);
        const key = `${modeKey}${SERVER_KEYS[label] ?? label}`;
        figures[`${key}MessagesPerSecond`] = rate;
        figures[`${key}P50Ms`] = p50;
        figures[`${key}P99Ms`] = p99;
        console.log(`    ${label.padEnd(18)} ${rate.toLocaleString('en-US').padStart(11)} ${p50.toFixed(3).padStart(8)} ${p99.toFixed(3).padStart(8)}`);
      }
      const rounds = [...new Set(inMode.map((r) => r.round))].map((round) => {
        const of = (label: string) => inMode.find((r) => r.round === round && r.label === label) as Row;
        return { ours: of('netsend'), theirs: of('Samba smbd'), echo: of('TCP echo'), floor: of('durable floor') };
      });
      const throughput = rounds.map(({ ours, theirs }) => ours.messagesPerSecond / theirs.messagesPerSecond);
      console.log(`    netsend/smbd throughput ${ratioSummary(`${modeKey}NetsendToSmbdThroughput`, throughput, figures)}`);
      console.log(
        `    netsend p99 ${ratioSummary(`${modeKey}NetsendToFloorP99`, rounds.map(({ ours, floor }) => ours.p99 / floor.p99), figures)} the durable floor's, ` +
          `${ratioSummary(`${modeKey}NetsendToEchoP99`, rounds.map(({ ours, echo }) => ours.p99 / echo.p99), figures)} the echo's`,
      );
    }
    const stored = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout || '{"id":0}') as { id: number };
    figures.netsendStored = stored.id;
    console.log(`\n  netsend stored ${stored.id.toLocaleString('en-US')} messages durably during the runs`);
    Object.assign(figures, idle);
    const added = idle.idleRssAddedMiB;
    console.log(
      `  ${idle.idleConnections.toLocaleString('en-US')} idle connections (8 from each of 125 addresses) to the daemon before the runs: ${idle.idleHeld} held as sessions, ${idle.idleRefused} refused; ` +
        `its RSS ${idle.idleRssBeforeMiB} → ${idle.idleRssAfterMiB} MiB (${added >= 0 ? '+' : '−'}${Math.abs(added)} MiB)`,
    );
    // The part of each message no transport can skip: its commit and the log's sync, alone.
    const commits = await commitLatency(join(dir, 'commit-only.db'), 2000);
    figures.commitP50Ms = printed(commits.p50, 3);
    figures.commitP99Ms = printed(commits.p99, 3);
    console.log(`  one durable commit alone (the store's commit and log sync): p50 ${figures.commitP50Ms.toFixed(3)} ms, p99 ${figures.commitP99Ms.toFixed(3)} ms`);
    return figures;
  } finally {
    await daemon?.stop();
    await smbd?.stop();
    for (const child of [echo, floor]) if (child) await stopChild(child);
    ns.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens 1,000 sessions that then say nothing, and reads the daemon's RSS before and with them. */
async function idleSessions(ns: LoopbackNamespace, pid: number) {
  const count = 1000;
  // RSS moves with the GC: each figure is the median of five samples a fifth of a second apart
  const settled = async () => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++, await new Promise((resolve) => setTimeout(resolve, 200))) samples.push(await rssMiB(pid));
    return median(samples);
  };
  const before = await settled();
  const load = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, LOAD, JSON.stringify({ targets: [], idle: { port: 1139, count, perAddress: 8 } })], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const answer = await new Promise<{ held: number; refused: number }>((resolve, reject) => {
      load.stdout.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line) as { held: number; refused: number }));
      load.once('exit', (code) => reject(new Error(`the idle load exited ${code}`)));
      setTimeout(() => reject(new Error('1,000 idle connections were not all answered within 60 s')), 60_000).unref();
    });
    const after = await settled();
    return { idleConnections: count, idleHeld: answer.held, idleRefused: answer.refused, idleRssBeforeMiB: printed(before, 1), idleRssAfterMiB: printed(after, 1), idleRssAddedMiB: printed(after - before, 1) };
  } finally {
    await stopChild(load, () => load.stdin.end());
  }
}

async function commitLatency(path: string, count: number): Promise<{ p50: number; p99: number }> {
  const store = await SqliteStore.open(path);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await store.messages.append({ from: 'BENCH', to: 'BENCH', text: 'commit latency', via: 'smb', sender: senderOf({ address: '127.0.0.1', port: 1 }) });
      latencies.push(performance.now() - started);
    }
  } finally {
    await store.close();
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

// after every server is stopped: nothing comes after this line
benchResult('smb', await main());
