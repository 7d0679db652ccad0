/**
 * The organisation hub under load (issue 14): a 3-node nats-server JetStream cluster on loopback
 * and two daemons, HOSTA and HOSTB, with their LAN transports off, so the hub is the only way
 * between them. A script that prints figures, not a test.
 *
 *   npm run bench:hub [-- --messages N] [--size BYTES] [--rounds R] [--concurrency C]
 *                     [--drain M] [--hosts H] [--no-kill] [--no-drain] [--no-scale]
 *
 * 1. R rounds of a pair, side by side, in alternating order: N netsend messages from HOSTA to
 *    HOSTB through the library client, C in flight; and N messages of the same text size through a
 *    raw JetStream client (its own R3 work-queue stream, a durable pull consumer acking them, C in
 *    flight end to end: a slot frees when the consumer has the message; a netsend send's when it
 *    answers, once HOSTB's 'stored' receipt is back at HOSTA or after 2 s). Latency: netsend send
 *    → stored at HOSTB (the store's receivedAt, read back from HOSTB's inbox, for 'stored' and
 *    'queued' answers alike), raw publish → consumed.
 *    Beside them, the raw client with a receipt back: its consumer publishes an 8-byte receipt for
 *    each message and acks the message once the hub holds it, and a slot frees only when the
 *    publisher has the receipt, as a netsend send waits for its 'stored' receipt; no disk, no
 *    sealing. It says how much of the raw client's rate the receipt's way back leaves.
 * 2. Leader kill: a netsend burst of N; at N/3 answered sends the message stream's leader is
 *    SIGKILLed. The stall (longest gap between consecutive messages stored at HOSTB) and the loss
 *    (sent minus distinct messages at HOSTB, which must be 0) and duplicates.
 * 3. Offline drain: HOSTB stopped, M messages sent (each answers 'queued' after the hub's 2 s
 *    wait for a receipt, so many are kept in flight), HOSTB started: the time until all are stored.
 * 4. Scale: H simulated hosts (signed host records and name claims in the registry bucket, one
 *    durable consumer each, made with the raw client): nats-server RSS and idle CPU before and
 *    after, and the time a name lookup takes on HOSTA.
 *
 * The daemons' message rate limits are raised (as bench/soak.ts does): the front door's default
 * of 5 messages/s per sending host would otherwise be what is measured. Every loop is bounded in
 * count and time; every process started here is stopped by PID. Ends with one `BENCH_RESULT {json}` line.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, RetentionPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type Client } from '../src/lib/client.js';
import { subjectToken } from '../src/hub/subject.js';
import { realmNames } from '../src/hub/connection.js';
import { generateBoxKeyPair, signBoxKey } from '../src/hub/envelope.js';
import { keyFingerprint } from '../src/security/certificate.js';
import { DaemonProcess, tempDataDir } from '../test/helpers/daemon.js';
import { NatsCluster, natsServerUnavailable, type NatsNode } from '../test/helpers/nats.js';
import { benchResult, median, percentile } from './stats.js';

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    size: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    drain: { type: 'string' },
    hosts: { type: 'string', default: '1000' },
    'no-kill': { type: 'boolean', default: false },
    'no-drain': { type: 'boolean', default: false },
    'no-scale': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '45' },
    /** Write V8 CPU profiles of the daemons into this dir (node --cpu-prof), to see where their time goes. */
    profile: { type: 'string' },
  },
});
const whole = (name: string, value: string | undefined, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be a whole number in ${min}..${max}, not ${value}`);
  return n;
};
const N = whole('messages', flags.messages, 10, 1_000_000);
const SIZE = whole('size', flags.size, 24, 4000);
const ROUNDS = whole('rounds', flags.rounds, 1, 20);
const C = whole('concurrency', flags.concurrency, 1, 60);
const M = whole('drain', flags.drain ?? String(N), 10, 1_000_000);
const HOSTS = whole('hosts', flags.hosts, 1, 10_000);
const MAX_MINUTES = whole('max-minutes', flags['max-minutes'], 1, 240);

const REALM = 'netsend';
const STREAM = `NETSEND_${REALM}`;
const RAW_STREAM = 'BENCH_RAW';
const RAW_DURABLE = 'bench_raw';
/** The raw floor's receipts back to the publisher (its second mode). */
const RAW_RECEIPTS = 'bench_raw_receipts';
/** No LAN (names and messages cross only through the hub), no pop-ups, rate limits out of the way. */
const DAEMON_ARGS = ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no',
  '--source-message-rate', '100000', '--source-message-burst', '1000000', '--global-message-rate', '1000000'];
/** A burst's sends stop being issued after this; the wait for stragglers at the recipient after that. */
const burstMs = (n: number) => Math.max(60_000, n * 30);
const STRAGGLER_MS = 30_000;
/** How long the receipts of sends answered 'queued' are waited for once every message is stored. */
const RECEIPTS_MS = 15_000;
const POLL_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(1) : '-');
const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const range = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
const showRange = (xs: number[], digits: number) => {
  const r = range(xs);
  return `${r.min.toFixed(digits)}–${r.max.toFixed(digits)} (median ${r.median.toFixed(digits)})`;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- processes, CPU, RSS

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux's usual 100
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Rig {
  cluster: NatsCluster;
  a: DaemonProcess;
  b: DaemonProcess;
  dirA: string;
  dirB: string;
}

/** The PIDs whose CPU a phase accounts for: the daemons, the nodes, and this process. */
function pids(rig: Rig): Record<string, number> {
  const out: Record<string, number> = {};
  if (rig.a.child.pid !== undefined && rig.a.child.exitCode === null) out.HOSTA = rig.a.child.pid;
  if (rig.b.child.pid !== undefined && rig.b.child.exitCode === null) out.HOSTB = rig.b.child.pid;
  for (const node of rig.cluster.nodes) if (node.pid !== undefined) out[node.name] = node.pid;
  return out;
}

/** CPU seconds each process spent between `start` and the returned function's call. */
async function cpuMeter(rig: Rig): Promise<() => Promise<Record<string, number>>> {
  const watched = pids(rig);
  const before: Record<string, number> = {};
  for (const [name, pid] of Object.entries(watched)) before[name] = await cpuSeconds(pid).catch(() => NaN);
  const self = process.cpuUsage();
  return async () => {
    const spent: Record<string, number> = {};
    for (const [name, pid] of Object.entries(watched)) spent[name] = round3((await cpuSeconds(pid).catch(() => NaN)) - (before[name] ?? NaN));
    const used = process.cpuUsage(self);
    spent.bench = round3((used.user + used.system) / 1e6);
    return spent;
  };
}

const showCpu = (cpu: Record<string, number>, messages: number) =>
  Object.entries(cpu)
    .map(([name, s]) => `${name} ${Number.isFinite(s) ? s.toFixed(1) : '-'} s`)
    .join(', ') + ` (CPU for ${rate(messages)} messages)`;

// ---------------------------------------------------------------- the rig

/** The daemons this process started and has not stopped yet. */
const children = new Set<DaemonProcess>();

async function hubHost(name: string, cluster: NatsCluster, dir: string): Promise<DaemonProcess> {
  // `node --cpu-prof` is not allowed in NODE_OPTIONS: a shell that execs node with it (same PID)
  const prefix = flags.profile === undefined ? [] : ['/bin/sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir=${join(flags.profile, name)} "$@"`];
  const daemon = await DaemonProcess.start(dir, [...DAEMON_ARGS, '--hub-servers', cluster.servers], { env: { NETSEND_NETBIOS_NAME: name }, timeoutMs: 20_000, prefix });
  children.add(daemon);
  await daemon.waitFor(() => daemon.stderr.includes('hub: joined realm'), 30_000, `${name} to join the hub`);
  return daemon;
}

/** Sends from HOSTA until HOSTB is known through the hub (bounded). */
async function warmUp(client: Client): Promise<number> {
  const started = Date.now();
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await client.send({ to: 'HOSTB', text: `warm-up ${attempt}` });
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > 30_000) throw new Error(`HOSTB never became reachable through the hub: ${String(error)}`);
      await sleep(300);
    }
  }
  throw new Error('HOSTB never became reachable through the hub');
}

/** The text of message `i` of a run, `size` characters (ASCII). */
function textOf(tag: string, i: number, size: number): string {
  const head = `${tag} #${i} `;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

// ---------------------------------------------------------------- watching HOSTB's inbox

interface Arrivals {
  /** receivedAt (ms since the epoch) of each distinct message of the run, by index. */
  at: Map<number, number>;
  duplicates: number;
  stop(): Promise<void>;
  /** Resolves once `count` distinct messages are there, or false after `ms`. */
  waitFor(count: number, ms: number): Promise<boolean>;
}

/** Polls HOSTB's inbox (pages after the last id seen) for the messages of one run. */
async function watchInbox(dataDir: string, tag: string, afterId: number): Promise<Arrivals> {
  const client = await connect({ dataDir });
  const at = new Map<number, number>();
  const prefix = `${tag} #`;
  let duplicates = 0;
  let after = afterId;
  let stopped = false;
  let failure: unknown = null;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (let page = 0; page < 1000; page++) {
          const messages = await client.inbox.list({ afterId: after, limit: 1000 });
          for (const m of messages) {
            after = Math.max(after, m.id);
            if (!m.text.startsWith(prefix)) continue;
            const i = Number.parseInt(m.text.slice(prefix.length), 10);
            if (at.has(i)) duplicates++;
            else at.set(i, Date.parse(m.receivedAt));
          }
          if (messages.length < 1000) break;
        }
      } catch (error) {
        failure = error;
        return;
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    at,
    get duplicates() {
      return duplicates;
    },
    async stop() {
      stopped = true;
      await loop;
      await client.close();
    },
    async waitFor(count, ms) {
      const deadline = Date.now() + ms;
      while (at.size < count) {
        if (failure !== null) throw failure;
        if (Date.now() > deadline) return false;
        await sleep(POLL_MS);
      }
      return true;
    },
  };
}

async function lastInboxId(dataDir: string): Promise<number> {
  const client = await connect({ dataDir });
  try {
    return (await client.inbox.latest(1)).at(-1)?.id ?? 0;
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------- a netsend burst

interface NetsendRun {
  messages: number;
  sent: number;
  errors: number;
  firstError: string | null;
  stored: number;
  queued: number;
  /** answered 'outbox': the hub had not taken the message within the send's bound */
  outbox: number;
  arrived: number;
  lost: number;
  duplicates: number;
  perSecond: number;
  /** send → stored at HOSTB (receivedAt), ms */
  p50: number;
  p99: number;
  max: number;
  /** send → the call's answer, ms, for answers 'stored' */
  callP50: number;
  callP99: number;
  /** the longest send → answer of all, ms, whatever the answer */
  callMax: number;
  /** longest gap between consecutive messages stored at HOSTB, ms, and when it began (ms after the first send) */
  stallMs: number;
  stallAtMs: number;
  seconds: number;
  timedOut: boolean;
  cpu: Record<string, number>;
  killed?: { node: string; atMs: number; newLeader: string | null; electedAfterMs: number | null };
  /** When the last send answered 'stored', ms after the first send; and how many did after a kill. */
  lastStoredAtMs: number;
  storedAfterKill: number;
  /** Of a sample of sends answered 'queued' or 'outbox', how many had the recipient's 'stored' receipt by the end. */
  queuedLater: { sampled: number; storedByEnd: number; waitedMs: number } | null;
}

async function netsendBurst(rig: Rig, tag: string, n: number, options: { concurrency?: number; connections?: number; kill?: boolean; expectOffline?: boolean } = {}): Promise<NetsendRun> {
  const concurrency = options.concurrency ?? C;
  const clients = await Promise.all(Array.from({ length: options.connections ?? 1 }, () => connect({ dataDir: rig.dirA })));
  const arrivals = options.expectOffline ? null : await watchInbox(rig.dirB, tag, await lastInboxId(rig.dirB));
  const sentAt = new Float64Array(n);
  const ok = new Uint8Array(n);
  const callMs: number[] = [];
  let next = 0;
  let answered = 0;
  let stored = 0;
  let queued = 0;
  let outbox = 0;
  let callMax = 0;
  let errors = 0;
  let firstError: string | null = null;
  let killing: Promise<NetsendRun['killed']> | null = null;
  let killedAt = Infinity;
  let lastStoredAt = 0;
  let storedAfterKill = 0;
  const queuedReceipts: Array<{ host: string; message: number }> = [];
  const meter = await cpuMeter(rig);
  const started = Date.now();
  const deadline = started + burstMs(n);
  let timedOut = false;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const client = clients[w % clients.length] as Client;
      while (next < n) {
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        const i = next++;
        const t0 = performance.now();
        sentAt[i] = Date.now();
        try {
          const result = await client.send({ to: 'HOSTB', text: textOf(tag, i, SIZE) });
          ok[i] = 1;
          if ('hub' in result && result.hub === 'stored') {
            stored++;
            callMs.push(performance.now() - t0);
            lastStoredAt = Date.now();
            if (lastStoredAt > killedAt) storedAfterKill++;
          } else {
            if ('hub' in result && result.hub === 'outbox') outbox++;
            else queued++;
            if ('receipt' in result && result.receipt !== undefined && queuedReceipts.length < 50 && Math.random() < 0.2) queuedReceipts.push(result.receipt);
          }
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        callMax = Math.max(callMax, performance.now() - t0);
        answered++;
        if (options.kill && killing === null && answered >= Math.floor(n / 3)) {
          killedAt = Date.now();
          killing = killLeader(rig.cluster, started);
        }
      }
    }),
  );
  const killed = killing === null ? undefined : await killing;
  const sent = ok.reduce((sum, x) => sum + x, 0);
  let arrivedAll = true;
  if (arrivals !== null) {
    arrivedAll = await arrivals.waitFor(sent, STRAGGLER_MS);
    await arrivals.stop();
  }
  const cpu = await meter();
  // whether the 'queued' ones got their receipt since (late) or not at all
  let queuedLater: NetsendRun['queuedLater'] = null;
  if (!options.expectOffline && queuedReceipts.length > 0) {
    // the last ones stored are still on their way back: looked at again, for RECEIPTS_MS at most
    const waitedFrom = Date.now();
    let storedByEnd = 0;
    for (let round = 0; round < 100; round++) {
      storedByEnd = 0;
      for (const r of queuedReceipts) {
        const receipt = await (clients[0] as Client).receipt(r.message, r.host).catch(() => null);
        if (receipt !== null && receipt.state !== 'queued') storedByEnd++;
      }
      if (storedByEnd === queuedReceipts.length || Date.now() - waitedFrom > RECEIPTS_MS) break;
      await sleep(250);
    }
    queuedLater = { sampled: queuedReceipts.length, storedByEnd, waitedMs: Date.now() - waitedFrom };
  }
  await Promise.all(clients.map((c) => c.close()));
  const at = arrivals?.at ?? new Map<number, number>();
  const latencies: number[] = [];
  for (const [i, t] of at) latencies.push(t - (sentAt[i] ?? NaN));
  latencies.sort((x, y) => x - y);
  callMs.sort((x, y) => x - y);
  const times = [...at.values()].sort((x, y) => x - y);
  let stallMs = 0;
  let stallAtMs = 0;
  for (let k = 1; k < times.length; k++) {
    const gap = (times[k] as number) - (times[k - 1] as number);
    if (gap > stallMs) {
      stallMs = gap;
      stallAtMs = (times[k - 1] as number) - started;
    }
  }
  const last = times.at(-1) ?? Date.now();
  const lost = arrivals === null ? 0 : [...Array(n).keys()].filter((i) => ok[i] === 1 && !at.has(i)).length;
  if (!arrivedAll && arrivals !== null) console.log(`    (${lost} of ${sent} sent messages had not arrived ${STRAGGLER_MS / 1000} s after the last send)`);
  return {
    messages: n,
    sent,
    errors,
    firstError,
    stored,
    queued,
    outbox,
    arrived: at.size,
    lost,
    duplicates: arrivals?.duplicates ?? 0,
    perSecond: at.size / Math.max(0.001, (last - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    callP50: percentile(callMs, 50),
    callP99: percentile(callMs, 99),
    callMax,
    stallMs,
    stallAtMs,
    seconds: (Date.now() - started) / 1000,
    timedOut,
    cpu,
    ...(killed === undefined ? {} : { killed }),
    lastStoredAtMs: lastStoredAt === 0 ? NaN : lastStoredAt - started,
    storedAfterKill,
    queuedLater,
  };
}

/** SIGKILLs the message stream's leader; resolves with when, and how long until another leads. */
async function killLeader(cluster: NatsCluster, started: number): Promise<NetsendRun['killed']> {
  const leader = await cluster.leaderOf(STREAM);
  if (leader === null) return { node: '(none found)', atMs: Date.now() - started, newLeader: null, electedAfterMs: null };
  const node = cluster.node(leader);
  const atMs = Date.now() - started;
  const killedAt = Date.now();
  await node.kill('SIGKILL');
  try {
    const next = await cluster.waitForLeader(STREAM, { not: leader, timeoutMs: 30_000 });
    return { node: leader, atMs, newLeader: next.name, electedAfterMs: Date.now() - killedAt };
  } catch {
    return { node: leader, atMs, newLeader: null, electedAfterMs: null };
  }
}

// ---------------------------------------------------------------- the raw JetStream floor

interface RawRig {
  pub: NatsConnection;
  sub: NatsConnection;
}

async function rawRig(cluster: NatsCluster): Promise<RawRig> {
  const pub = await natsConnect({ servers: cluster.urls, name: 'bench raw publisher' });
  const sub = await natsConnect({ servers: cluster.urls, name: 'bench raw consumer' });
  const jsm = await jetstreamManager(pub, { timeout: 10_000 });
  await jsm.streams.add({ name: RAW_STREAM, subjects: ['benchraw.>'], retention: RetentionPolicy.Workqueue, num_replicas: 3, duplicate_window: 2 * 60_000 * 1_000_000 });
  // messages and receipts: work-queue consumers whose filters do not overlap
  for (const [durable, filter] of [[RAW_DURABLE, 'benchraw.msg.>'], [RAW_RECEIPTS, 'benchraw.receipt.>']] as const) {
    await jsm.consumers.add(RAW_STREAM, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * 1_000_000,
      max_ack_pending: 256,
    });
  }
  return { pub, sub };
}

interface RawRun {
  messages: number;
  consumed: number;
  duplicates: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  pubAckP50: number;
  pubAckP99: number;
  /** With a receipt back: publish → receipt at the publisher. */
  receiptP50?: number;
  receiptP99?: number;
  /** Slots freed after 30 s without their message (or receipt). */
  timedOut: number;
  seconds: number;
  cpu: Record<string, number>;
}

/**
 * N messages through the raw client, C in flight. With `receipt`, the consumer publishes a receipt
 * back for each message (8 bytes, to a stream the publisher consumes) and acks the message once
 * the hub holds it, and a slot frees only when the publisher has the receipt: what a netsend send
 * does with its 'stored' receipt, without the disks, the sealing or the daemons. Messages per
 * second count the messages consumed, as netsend's count those stored at HOSTB.
 */
async function rawBurst(rig: Rig, raw: RawRig, runId: number, n: number, options: { receipt?: boolean } = {}): Promise<RawRun> {
  const js = jetstream(raw.pub, { timeout: 5000 });
  const jsSub = jetstream(raw.sub, { timeout: 5000 });
  const consumer = await jsSub.consumers.get(RAW_STREAM, RAW_DURABLE);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
  const receipts: ConsumerMessages | null = options.receipt ? await (await js.consumers.get(RAW_STREAM, RAW_RECEIPTS)).consume({ max_messages: 64 }) : null;
  const t0 = new Float64Array(n);
  const latency: number[] = [];
  const pubAck: number[] = [];
  const receiptLatency: number[] = [];
  const seen = new Uint8Array(n);
  const waiting = new Map<number, () => void>();
  let duplicates = 0;
  let lastConsumed = 0;
  const consuming = (async () => {
    for await (const m of messages) {
      const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      if (m.data.byteLength >= 8 && view.getUint32(0) === runId) {
        const i = view.getUint32(4);
        if (seen[i] === 1) duplicates++;
        else {
          seen[i] = 1;
          lastConsumed = performance.now();
          latency.push(lastConsumed - (t0[i] ?? NaN));
          if (receipts === null) waiting.get(i)?.();
        }
        if (receipts !== null) {
          // acked once the hub holds its receipt, as a netsend recipient does
          const settle = (held: boolean) => {
            try {
              if (held) m.ack();
              else m.nak(1000);
            } catch {}
          };
          void jsSub.publish(`benchraw.receipt.${runId}`, m.data.subarray(0, 8), { msgID: `${runId}-${i}-receipt`, timeout: 5000 }).then(() => settle(true), () => settle(false));
          continue;
        }
      }
      m.ack();
    }
  })();
  const answering = (async () => {
    for await (const m of receipts ?? []) {
      const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      if (m.data.byteLength >= 8 && view.getUint32(0) === runId) {
        const i = view.getUint32(4);
        const slot = waiting.get(i);
        if (slot !== undefined) receiptLatency.push(performance.now() - (t0[i] ?? NaN));
        slot?.();
      }
      m.ack();
    }
  })();
  const meter = await cpuMeter(rig);
  let next = 0;
  let errors = 0;
  let timedOut = 0;
  const started = performance.now();
  const deadline = Date.now() + burstMs(n);
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < n && Date.now() < deadline) {
        const i = next++;
        const payload = new Uint8Array(SIZE);
        payload.fill(120);
        new DataView(payload.buffer).setUint32(0, runId);
        new DataView(payload.buffer).setUint32(4, i);
        let timer: NodeJS.Timeout | undefined;
        const consumed = new Promise<boolean>((resolve) => {
          timer = setTimeout(resolve, 30_000, false);
          waiting.set(i, () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        t0[i] = performance.now();
        try {
          await js.publish(`benchraw.msg.${runId}`, payload, { msgID: `${runId}-${i}`, timeout: 5000 });
          pubAck.push(performance.now() - (t0[i] as number));
          // a slot whose message (or receipt) never came is freed after 30 s, and counted
          if (!(await consumed)) timedOut++;
        } catch {
          clearTimeout(timer);
          errors++;
        }
        waiting.delete(i);
      }
    }),
  );
  const cpu = await meter();
  messages.stop();
  receipts?.stop();
  await Promise.all([consuming.catch(() => {}), answering.catch(() => {})]);
  latency.sort((x, y) => x - y);
  pubAck.sort((x, y) => x - y);
  receiptLatency.sort((x, y) => x - y);
  return {
    ...(receipts === null ? {} : { receiptP50: percentile(receiptLatency, 50), receiptP99: percentile(receiptLatency, 99) }),
    timedOut,
    messages: n,
    consumed: latency.length,
    duplicates,
    errors,
    perSecond: latency.length / Math.max(0.001, (lastConsumed - started) / 1000),
    p50: percentile(latency, 50),
    p99: percentile(latency, 99),
    max: percentile(latency, 100),
    pubAckP50: percentile(pubAck, 50),
    pubAckP99: percentile(pubAck, 99),
    seconds: (performance.now() - started) / 1000,
    cpu,
  };
}

// ---------------------------------------------------------------- scale: simulated hosts

interface ScaleResult {
  hosts: number;
  recordsMade: number;
  consumersMade: number;
  makeSeconds: number;
  rssBeforeMiB: Record<string, number>;
  rssAfterMiB: Record<string, number>;
  idleCpuBeforePct: Record<string, number>;
  idleCpuAfterPct: Record<string, number>;
  resolveBefore: { p50: number; p99: number; max: number; n: number };
  resolveAfter: { p50: number; p99: number; max: number; n: number; failed: number };
  note?: string;
}

async function idleCpuPct(nodes: readonly NatsNode[], seconds: number): Promise<Record<string, number>> {
  const before = await Promise.all(nodes.map((n) => cpuSeconds(n.pid as number)));
  await sleep(seconds * 1000);
  const after = await Promise.all(nodes.map((n) => cpuSeconds(n.pid as number)));
  return Object.fromEntries(nodes.map((n, k) => [n.name, Math.round((((after[k] as number) - (before[k] as number)) / seconds) * 1000) / 10]));
}

async function rssOf(nodes: readonly NatsNode[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(nodes.map(async (n) => [n.name, Math.round((await rssMiB(n.pid as number)) * 10) / 10] as const)));
}

async function resolveTimes(client: Client, names: string[]): Promise<{ p50: number; p99: number; max: number; n: number; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  for (const name of names) {
    const t0 = performance.now();
    try {
      await client.resolve(name);
      times.push(performance.now() - t0);
    } catch {
      failed++;
    }
  }
  times.sort((x, y) => x - y);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: percentile(times, 100), n: times.length, failed };
}

async function scale(rig: Rig, hosts: number, budgetMs: number): Promise<ScaleResult> {
  const nodes = rig.cluster.nodes;
  const client = await connect({ dataDir: rig.dirA });
  const nc = await natsConnect({ servers: rig.cluster.urls, name: 'bench scale' });
  try {
    await sleep(2000);
    const rssBeforeMiB = await rssOf(nodes);
    const idleCpuBeforePct = await idleCpuPct(nodes, 10);
    const before = await resolveTimes(client, Array.from({ length: 50 }, () => 'HOSTB'));
    const kv = await new Kvm(nc).open(realmNames(REALM).bucket);
    const jsm = await jetstreamManager(nc, { timeout: 20_000 });
    const started = Date.now();
    const deadline = started + budgetMs;
    let recordsMade = 0;
    let consumersMade = 0;
    let next = 0;
    let note: string | undefined;
    const nameOf = (i: number) => `SIM${String(i).padStart(5, '0')}`;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < hosts && Date.now() < deadline) {
          const name = nameOf(next++);
          const { privateKey } = generateKeyPairSync('ed25519');
          const publicKey = createPublicKey(privateKey);
          const boxKey = generateBoxKeyPair().publicKey;
          const unsigned = { name, workgroup: 'WORKGROUP', hostKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'), fingerprint: keyFingerprint(publicKey), boxKey, boxSig: signBoxKey(privateKey, name, boxKey) };
          const signed = (kind: string, fields: string[]) => sign(null, Buffer.from([`netsend-${kind}`, ...fields].join('\0'), 'utf8'), privateKey).toString('base64url');
          const record = { ...unsigned, sig: signed('host', [unsigned.name, unsigned.workgroup, unsigned.hostKey, unsigned.fingerprint, unsigned.boxKey, unsigned.boxSig]) };
          // one alias each, as a host with a user's name beside its computer name
          const alias = `A${name}`;
          const claim = { name: alias, host: name, sig: signed('claim', [alias, name]) };
          try {
            await kv.put(`h.${subjectToken(name)}`, JSON.stringify(record));
            await kv.put(`c.${subjectToken(name)}.${subjectToken(alias)}`, JSON.stringify(claim));
            recordsMade++;
            await jsm.consumers.add(STREAM, {
              durable_name: `host_${subjectToken(name)}`,
              filter_subject: `netsend.${REALM}.${subjectToken(name)}.>`,
              ack_policy: AckPolicy.Explicit,
              deliver_policy: DeliverPolicy.All,
              ack_wait: 30_000 * 1_000_000,
              max_ack_pending: 256,
            });
            consumersMade++;
          } catch (error) {
            note ??= `a simulated host failed: ${String(error)}`;
          }
        }
      }),
    );
    const makeSeconds = (Date.now() - started) / 1000;
    if (consumersMade < hosts) note = `${note ? `${note}; ` : ''}only ${consumersMade} of ${hosts} hosts made within ${budgetMs / 1000} s`;
    await sleep(5000);
    const rssAfterMiB = await rssOf(nodes);
    const idleCpuAfterPct = await idleCpuPct(nodes, 10);
    const sample = Array.from({ length: Math.min(200, consumersMade) }, (_, k) => nameOf(Math.floor((k * consumersMade) / Math.min(200, consumersMade))));
    const after = await resolveTimes(client, sample);
    return {
      hosts,
      recordsMade,
      consumersMade,
      makeSeconds,
      rssBeforeMiB,
      rssAfterMiB,
      idleCpuBeforePct,
      idleCpuAfterPct,
      resolveBefore: { p50: before.p50, p99: before.p99, max: before.max, n: before.n },
      resolveAfter: after,
      ...(note === undefined ? {} : { note }),
    };
  } finally {
    await client.close();
    await nc.close();
  }
}

// ---------------------------------------------------------------- main

const cleanups: Array<() => Promise<unknown>> = [];

async function cleanUp(): Promise<void> {
  for (const daemon of children) await daemon.stop('SIGTERM', 5000).catch(() => {});
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
}

process.on('exit', () => {
  // last resort: daemons this process started, by PID (the cluster helper does the same for its nodes)
  for (const daemon of children) if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
});

function printNetsend(label: string, r: NetsendRun): void {
  console.log(
    `  ${label}: ${rate(r.perSecond).padStart(6)} msg/s  send→stored p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms  ` +
      `(${r.stored} 'stored' [call p50 ${fmt(r.callP50)} p99 ${fmt(r.callP99)} ms], ${r.queued} 'queued', ${r.outbox} 'outbox', ${r.errors} errors, longest call ${fmt(r.callMax)} ms; ${r.arrived}/${r.sent} at HOSTB, ${r.duplicates} dup, ${r.seconds.toFixed(1)} s${r.timedOut ? ', TIMED OUT' : ''})`,
  );
  if (r.firstError !== null) console.log(`    first error: ${r.firstError}`);
  if (r.queuedLater !== null) console.log(`    of ${r.queuedLater.sampled} sampled 'queued' or 'outbox' sends, ${r.queuedLater.storedByEnd} had HOSTB's 'stored' receipt at HOSTA ${fmt(r.queuedLater.waitedMs / 1000)} s after the last message was stored (${RECEIPTS_MS / 1000} s at most)`);
  console.log(`    ${showCpu(r.cpu, r.sent)}`);
}

/** A raw run's figures for BENCH_RESULT. */
const rawFigures = (r: RawRun) => ({
  perSecond: Math.round(r.perSecond), p50: round3(r.p50), p99: round3(r.p99), max: round3(r.max), pubAckP50: round3(r.pubAckP50), pubAckP99: round3(r.pubAckP99),
  ...(r.receiptP50 === undefined ? {} : { receiptP50: round3(r.receiptP50), receiptP99: round3(r.receiptP99 ?? NaN) }),
  messages: r.messages, consumed: r.consumed, duplicates: r.duplicates, errors: r.errors, timedOut: r.timedOut, seconds: round3(r.seconds), cpu: r.cpu,
});

function printRaw(r: RawRun): void {
  const receipt = r.receiptP50 === undefined ? '' : `; publish→receipt p50 ${fmt(r.receiptP50)} p99 ${fmt(r.receiptP99 ?? NaN)} ms`;
  console.log(
    `  raw JetStream${r.receiptP50 === undefined ? '' : ', receipt back'}: ${rate(r.perSecond).padStart(6)} msg/s  publish→consumed p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms  ` +
      `(PubAck p50 ${fmt(r.pubAckP50)} p99 ${fmt(r.pubAckP99)} ms${receipt}; ${r.consumed}/${r.messages} consumed, ${r.duplicates} dup, ${r.errors} errors${r.timedOut > 0 ? `, ${r.timedOut} slots freed after 30 s` : ''}, ${r.seconds.toFixed(1)} s)`,
  );
  console.log(`    ${showCpu(r.cpu, r.consumed)}`);
}

async function main(): Promise<void> {
  const unavailable = natsServerUnavailable();
  if (unavailable !== null) {
    console.log(`bench:hub skipped: ${unavailable}`);
    benchResult('hub', { skipped: unavailable });
    return;
  }
  const watchdog = setTimeout(() => {
    console.error(`bench:hub: over ${MAX_MINUTES} minutes; stopping`);
    void cleanUp().finally(() => process.exit(2));
  }, MAX_MINUTES * 60_000);
  watchdog.unref();

  console.log(`netsend hub benchmark: 3-node nats-server cluster (${execFileSync('/usr/sbin/nats-server', ['--version'], { encoding: 'utf8' }).trim()}), HOSTA → HOSTB, LAN off; node ${process.version}`);
  console.log(`  ${rate(N)} messages of ${SIZE} bytes a run, ${C} in flight, ${ROUNDS} round(s); offline drain ${rate(M)}; scale ${flags['no-scale'] ? 'off' : `${rate(HOSTS)} hosts`}`);
  const setupStarted = Date.now();
  const cluster = await NatsCluster.start({ nodes: 3 });
  cleanups.push(() => cluster.stop());
  const [dA, dB] = await Promise.all([tempDataDir(), tempDataDir()]);
  cleanups.push(dA.cleanup, dB.cleanup);
  const [a, b] = await Promise.all([hubHost('HOSTA', cluster, dA.dir), hubHost('HOSTB', cluster, dB.dir)]);
  const rig: Rig = { cluster, a, b, dirA: dA.dir, dirB: dB.dir };
  const warm = await connect({ dataDir: rig.dirA });
  const warmMs = await warmUp(warm);
  await warm.close();
  const raw = await rawRig(cluster);
  cleanups.push(async () => {
    await raw.pub.close();
    await raw.sub.close();
  });
  const setupMs = Date.now() - setupStarted;
  console.log(`  set up in ${(setupMs / 1000).toFixed(1)} s (HOSTB reachable from HOSTA ${warmMs} ms after both joined)`);

  // 1. side by side
  const pairs: Array<{ round: number; netsend: NetsendRun; raw: RawRun; rawReceipt: RawRun; rateRatio: number; p99Ratio: number; receiptRateRatio: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round} of ${ROUNDS}${round % 2 === 0 ? ' (netsend first)' : ' (raw first)'}`);
    const raws = async (): Promise<[RawRun, RawRun]> => {
      const plain = () => rawBurst(rig, raw, 2 * round, N);
      const receipt = () => rawBurst(rig, raw, 2 * round + 1, N, { receipt: true });
      // in alternating order too
      const [first, second] = round % 2 === 0 ? [receipt, plain] : [plain, receipt];
      const a = await first();
      printRaw(a);
      const b = await second();
      printRaw(b);
      return round % 2 === 0 ? [b, a] : [a, b];
    };
    const netsend = async (): Promise<NetsendRun> => {
      const run = await netsendBurst(rig, `r${round}`, N);
      printNetsend('netsend', run);
      return run;
    };
    let ns: NetsendRun;
    let rw: RawRun;
    let rr: RawRun;
    if (round % 2 === 0) {
      ns = await netsend();
      [rw, rr] = await raws();
    } else {
      [rw, rr] = await raws();
      ns = await netsend();
    }
    const pair = { round, netsend: ns, raw: rw, rawReceipt: rr, rateRatio: ns.perSecond / rw.perSecond, p99Ratio: ns.p99 / rw.p99, receiptRateRatio: ns.perSecond / rr.perSecond };
    pairs.push(pair);
    console.log(`  netsend/raw: msg/s ${(pair.rateRatio * 100).toFixed(1)}% (target ≥ 50%), p99 ${pair.p99Ratio.toFixed(2)}× (target ≤ 2×)`);
    console.log(`  raw with a receipt back / raw: msg/s ${((rr.perSecond / rw.perSecond) * 100).toFixed(1)}%; netsend / raw with a receipt back: ${(pair.receiptRateRatio * 100).toFixed(1)}%`);
  }
  const rateRatios = pairs.map((p) => p.rateRatio);
  const p99Ratios = pairs.map((p) => p.p99Ratio);
  console.log(`over ${ROUNDS} round(s):`);
  console.log(`  netsend msg/s ${showRange(pairs.map((p) => p.netsend.perSecond), 0)}; raw ${showRange(pairs.map((p) => p.raw.perSecond), 0)}`);
  console.log(`  netsend p99 ${showRange(pairs.map((p) => p.netsend.p99), 1)} ms; raw p99 ${showRange(pairs.map((p) => p.raw.p99), 1)} ms`);
  console.log(`  ratio msg/s ${showRange(rateRatios.map((r) => r * 100), 1)} % — target ≥ 50%: ${rateRatios.filter((r) => r >= 0.5).length}/${ROUNDS} rounds meet it`);
  console.log(`  ratio p99   ${showRange(p99Ratios, 2)} × — target ≤ 2×: ${p99Ratios.filter((r) => r <= 2).length}/${ROUNDS} rounds meet it`);
  console.log(`  raw with a receipt back (a slot frees on its receipt, as a netsend send waits for 'stored'): msg/s ${showRange(pairs.map((p) => p.rawReceipt.perSecond), 0)}, ${showRange(pairs.map((p) => (p.rawReceipt.perSecond / p.raw.perSecond) * 100), 1)} % of raw; netsend ${showRange(pairs.map((p) => p.receiptRateRatio * 100), 1)} % of it`);

  // 2. the stream leader killed at N/3
  let kill: NetsendRun | null = null;
  let restartedMs: number | null = null;
  if (!flags['no-kill']) {
    console.log(`leader kill: ${rate(N)} messages, the leader of ${STREAM} SIGKILLed after ${rate(Math.floor(N / 3))} answers`);
    kill = await netsendBurst(rig, 'kill', N, { kill: true });
    printNetsend('netsend', kill);
    const k = kill.killed;
    console.log(
      `  killed ${k?.node ?? '?'} at ${((k?.atMs ?? 0) / 1000).toFixed(1)} s; new leader ${k?.newLeader ?? 'none seen'}${k?.electedAfterMs == null ? '' : ` after ${(k.electedAfterMs / 1000).toFixed(1)} s`}; ` +
        `stall (longest gap between messages stored at HOSTB) ${(kill.stallMs / 1000).toFixed(2)} s from ${(kill.stallAtMs / 1000).toFixed(1)} s; lost ${kill.lost} (must be 0), duplicates ${kill.duplicates}`,
    );
    console.log(`  sends answered 'stored' after the kill: ${kill.storedAfterKill}; the last 'stored' answer at ${(kill.lastStoredAtMs / 1000).toFixed(1)} s of ${kill.seconds.toFixed(1)} s`);
    if (k !== undefined && k.node !== '(none found)') {
      const restarted = Date.now();
      await cluster.node(k.node).restart(30_000);
      await cluster.waitReady(30_000);
      restartedMs = Date.now() - restarted;
      console.log(`  ${k.node} restarted and the cluster ready again in ${(restartedMs / 1000).toFixed(1)} s`);
    }
  }

  // 3. offline drain
  let drain: Record<string, unknown> | null = null;
  if (!flags['no-drain']) {
    console.log(`offline drain: HOSTB stopped, ${rate(M)} messages sent, HOSTB started`);
    await rig.b.stop();
    children.delete(rig.b);
    // each send answers 'queued' only after the hub's 2 s wait for a receipt: many in flight, over several connections
    const fill = await netsendBurst(rig, 'drain', M, { expectOffline: true, concurrency: 480, connections: 8 });
    console.log(`  sent ${fill.sent} in ${fill.seconds.toFixed(1)} s (${fill.stored} 'stored', ${fill.queued} 'queued', ${fill.outbox} 'outbox', ${fill.errors} errors${fill.firstError ? `: ${fill.firstError}` : ''}${fill.timedOut ? ', TIMED OUT' : ''})`);
    const leader = await cluster.leaderOf(STREAM);
    const detail = leader === null ? null : await cluster.node(leader).streamDetail(STREAM);
    // per message sent: a JetStream message may be a bundle of many (src/hub/bundle.ts)
    const bytesEach = detail !== null && fill.sent > 0 ? detail.state.bytes / fill.sent : NaN;
    console.log(`  the stream holds ${detail?.state.messages ?? '?'} JetStream messages for ${fill.sent} sent (bundles), ${detail === null ? '?' : (detail.state.bytes / 1024 / 1024).toFixed(1)} MiB (${fmt(bytesEach)} bytes a message sent, for ${SIZE} bytes of text)`);
    const afterId = await lastInboxId(rig.dirB).catch(() => 0);
    const startedAt = Date.now();
    rig.b = await hubHost('HOSTB', cluster, rig.dirB);
    const joinedMs = Date.now() - startedAt;
    const arrivals = await watchInbox(rig.dirB, 'drain', afterId);
    const meter = await cpuMeter(rig);
    const complete = await arrivals.waitFor(fill.sent, Math.max(60_000, fill.sent * 20));
    const drainedMs = Date.now() - startedAt;
    await arrivals.stop();
    const cpu = await meter();
    const times = [...arrivals.at.values()].sort((x, y) => x - y);
    const lost = fill.sent - arrivals.at.size;
    drain = {
      messages: M,
      sent: fill.sent,
      fillSeconds: round3(fill.seconds),
      stored: fill.stored,
      queued: fill.queued,
      outbox: fill.outbox,
      errors: fill.errors,
      streamMessages: detail?.state.messages ?? null,
      streamMiB: detail === null ? null : round3(detail.state.bytes / 1024 / 1024),
      streamBytesPerSent: Math.round(bytesEach),
      joinedSeconds: round3(joinedMs / 1000),
      drainedSeconds: round3(drainedMs / 1000),
      complete,
      arrived: arrivals.at.size,
      lost,
      duplicates: arrivals.duplicates,
      perSecond: Math.round(arrivals.at.size / Math.max(0.001, ((times.at(-1) ?? Date.now()) - (times[0] ?? startedAt)) / 1000)),
      cpu,
    };
    console.log(
      `  HOSTB joined ${(joinedMs / 1000).toFixed(1)} s after its start; all ${arrivals.at.size}/${fill.sent} stored ${(drainedMs / 1000).toFixed(1)} s after its start${complete ? '' : ' (INCOMPLETE: gave up)'} ` +
        `(${rate(drain.perSecond as number)} msg/s once flowing; lost ${lost}, duplicates ${arrivals.duplicates})`,
    );
    console.log(`    ${showCpu(cpu, arrivals.at.size)}`);
  }

  // 4. scale
  let scaled: ScaleResult | null = null;
  if (!flags['no-scale']) {
    console.log(`scale: ${rate(HOSTS)} simulated hosts (a signed host record and claim each in the registry bucket, one durable R3 consumer each)`);
    // nats-server 2.9 makes R3 consumers at 9-17 a second here (4-8 workers): 150 ms a host, at least 4 minutes
    scaled = await scale(rig, HOSTS, Math.max(240_000, HOSTS * 150));
    const sum = (r: Record<string, number>) => Object.values(r).reduce((s, x) => s + x, 0);
    console.log(`  made ${scaled.recordsMade} records and ${scaled.consumersMade} consumers in ${scaled.makeSeconds.toFixed(1)} s${scaled.note ? ` (${scaled.note})` : ''}`);
    console.log(`  nats-server RSS ${JSON.stringify(scaled.rssBeforeMiB)} → ${JSON.stringify(scaled.rssAfterMiB)} MiB (sum ${sum(scaled.rssBeforeMiB).toFixed(0)} → ${sum(scaled.rssAfterMiB).toFixed(0)})`);
    console.log(`  nats-server idle CPU ${JSON.stringify(scaled.idleCpuBeforePct)} → ${JSON.stringify(scaled.idleCpuAfterPct)} % of a core (10 s each)`);
    console.log(
      `  resolve on HOSTA: before (HOSTB, ${scaled.resolveBefore.n}×) p50 ${fmt(scaled.resolveBefore.p50)} p99 ${fmt(scaled.resolveBefore.p99)} ms; ` +
        `after (${scaled.resolveAfter.n} distinct simulated names, ${scaled.resolveAfter.failed} not found) p50 ${fmt(scaled.resolveAfter.p50)} p99 ${fmt(scaled.resolveAfter.p99)} max ${fmt(scaled.resolveAfter.max)} ms`,
    );
  }

  const summary = (xs: number[], digits = 1) => {
    const r = range(xs);
    const k = 10 ** digits;
    return { min: Math.round(r.min * k) / k, median: Math.round(r.median * k) / k, max: Math.round(r.max * k) / k };
  };
  const lossy = (kill?.lost ?? 0) + ((drain?.lost as number | undefined) ?? 0) + pairs.reduce((s, p) => s + p.netsend.lost, 0);
  benchResult('hub', {
    messages: N,
    size: SIZE,
    concurrency: C,
    rounds: ROUNDS,
    setupMs,
    warmUpMs: warmMs,
    netsend: { perSecond: summary(pairs.map((p) => p.netsend.perSecond), 0), p50: summary(pairs.map((p) => p.netsend.p50)), p99: summary(pairs.map((p) => p.netsend.p99)), max: summary(pairs.map((p) => p.netsend.max)), queued: pairs.map((p) => p.netsend.queued), lost: pairs.map((p) => p.netsend.lost) },
    raw: { perSecond: summary(pairs.map((p) => p.raw.perSecond), 0), p50: summary(pairs.map((p) => p.raw.p50)), p99: summary(pairs.map((p) => p.raw.p99)), max: summary(pairs.map((p) => p.raw.max)) },
    rawReceipt: { perSecond: summary(pairs.map((p) => p.rawReceipt.perSecond), 0), p99: summary(pairs.map((p) => p.rawReceipt.p99)), receiptP50: summary(pairs.map((p) => p.rawReceipt.receiptP50 ?? NaN)), receiptP99: summary(pairs.map((p) => p.rawReceipt.receiptP99 ?? NaN)), ofRaw: summary(pairs.map((p) => p.rawReceipt.perSecond / p.raw.perSecond), 3), netsendOf: summary(pairs.map((p) => p.receiptRateRatio), 3) },
    ratio: { perSecond: summary(rateRatios, 3), p99: summary(p99Ratios, 2) },
    targets: { perSecondAtLeast: 0.5, p99AtMost: 2, perSecondMet: rateRatios.filter((r) => r >= 0.5).length, p99Met: p99Ratios.filter((r) => r <= 2).length },
    pairs: pairs.map((p) => ({ round: p.round, netsend: { perSecond: Math.round(p.netsend.perSecond), p50: p.netsend.p50, p99: p.netsend.p99, max: p.netsend.max, callP50: round3(p.netsend.callP50), callP99: round3(p.netsend.callP99), callMax: round3(p.netsend.callMax), sent: p.netsend.sent, arrived: p.netsend.arrived, seconds: round3(p.netsend.seconds), stored: p.netsend.stored, queued: p.netsend.queued, outbox: p.netsend.outbox, errors: p.netsend.errors, lost: p.netsend.lost, duplicates: p.netsend.duplicates, cpu: p.netsend.cpu }, raw: rawFigures(p.raw), rawReceipt: rawFigures(p.rawReceipt) })),
    leaderKill:
      kill === null
        ? null
        : { ...kill.killed, restartedMs, stallMs: kill.stallMs, stallAtMs: kill.stallAtMs, storedAfterKill: kill.storedAfterKill, lastStoredAtMs: kill.lastStoredAtMs, queuedLater: kill.queuedLater, sent: kill.sent, arrived: kill.arrived, lost: kill.lost, duplicates: kill.duplicates, errors: kill.errors, queued: kill.queued, outbox: kill.outbox, stored: kill.stored, perSecond: Math.round(kill.perSecond), p50: kill.p50, p99: kill.p99, max: kill.max, callP50: round3(kill.callP50), callP99: round3(kill.callP99), callMax: round3(kill.callMax), seconds: round3(kill.seconds), cpu: kill.cpu },
    drain,
    scale: scaled,
  });
  if (lossy > 0) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanUp();
}
