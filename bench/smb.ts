/**
 * `npm run bench:smb`: SMB messages received per second and round trip, netsend against Samba's
 * smbd (its message command writing each message to a file), with one sending client for both
 * and a bare TCP echo as the floor. Runs in a loopback-only network namespace (needs root):
 * smbd on 127.0.0.1:139, netsend on 127.0.0.1:1139.
 *
 *   BENCH_SECONDS=5 BENCH_CLIENTS=4 npm run bench:smb
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite.js';
import { fileURLToPath } from 'node:url';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { LoopbackNamespace, netnsUnavailable, waitUntil } from '../test/helpers/netns.js';
import { SmbdPeer, sambaUnavailable } from '../test/helpers/samba.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const LOAD = fileURLToPath(new URL('./smb-load.js', import.meta.url));

interface Row {
  label: string;
  mode: string;
  messagesPerSecond: number;
  p50: number;
  p99: number;
}

async function main(): Promise<void> {
  const unavailable = netnsUnavailable() ?? sambaUnavailable();
  if (unavailable) {
    console.error(`bench:smb cannot run here: ${unavailable}`);
    process.exitCode = 1;
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ns-bench-smb-'));
  const ns = LoopbackNamespace.create();
  let daemon: DaemonProcess | undefined;
  let smbd: SmbdPeer | undefined;
  let echo: ReturnType<typeof spawn> | undefined;
  try {
    daemon = await DaemonProcess.start(join(dir, 'netsend'), ['--smb-port', '1139', '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no', '--netbios-name', 'BENCH', '--source-message-rate', '100000', '--source-message-burst', '1000000', '--global-message-rate', '100000'], { prefix: ns.prefix });
    smbd = await SmbdPeer.start(join(dir, 'samba'), ns, 'BENCH');
    echo = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), 'timeout', '300', process.execPath, '-e', "require('net').createServer((s) => s.pipe(s)).listen(1140, '127.0.0.1')"], { stdio: 'ignore' });
    await waitUntil(() => ns.listening('127.0.0.1', 1140), 10_000, 'the echo server');
    const targets = [
      { label: 'netsend', port: 1139 },
      { label: 'Samba smbd', port: 139 },
      { label: 'TCP echo (floor)', port: 1140, echo: true },
    ];
    const load = spawnSync(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, LOAD, JSON.stringify({ targets, seconds: SECONDS, clients: CLIENTS })], {
      encoding: 'utf8',
      timeout: (SECONDS * 6 + 60) * 1000,
    });
    if (load.status !== 0) throw new Error(`the load client failed: ${load.stderr}`);
    const rows = load.stdout.trim().split('\n').map((line) => JSON.parse(line) as Row);
    console.log(`SMB message benchmark: ${CLIENTS} concurrent clients, ${SECONDS} s per run, loopback in a private namespace (node ${process.version})`);
    for (const mode of new Set(rows.map((r) => r.mode))) {
      console.log(`\n  ${mode}`);
      console.log(`    ${'server'.padEnd(18)} ${'messages/s'.padStart(11)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
      for (const row of rows.filter((r) => r.mode === mode)) {
        console.log(
          `    ${row.label.padEnd(18)} ${Math.round(row.messagesPerSecond).toLocaleString('en-US').padStart(11)} ${row.p50.toFixed(3).padStart(8)} ${row.p99.toFixed(3).padStart(8)}`,
        );
      }
      const ours = rows.find((r) => r.mode === mode && r.label === 'netsend');
      const theirs = rows.find((r) => r.mode === mode && r.label === 'Samba smbd');
      const floor = rows.find((r) => r.mode === mode && r.label.startsWith('TCP echo'));
      if (ours && theirs && floor) {
        console.log(`    netsend/smbd throughput ${(ours.messagesPerSecond / theirs.messagesPerSecond).toFixed(1)}×; netsend p99 ${(ours.p99 / floor.p99).toFixed(1)}× the echo floor`);
      }
    }
    const stored = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout || '{"id":0}') as { id: number };
    console.log(`\n  netsend stored ${stored.id.toLocaleString('en-US')} messages durably during the runs`);
    // The part of each message no transport can skip: its commit (worker hop and fsync), alone.
    const commits = await commitLatency(join(dir, 'commit-only.db'), 2000);
    console.log(`  one durable commit alone (the store's worker hop and fsync): p50 ${commits.p50.toFixed(3)} ms, p99 ${commits.p99.toFixed(3)} ms`);
  } finally {
    await daemon?.stop();
    await smbd?.stop();
    if (echo) {
      const exited = new Promise((resolve) => echo?.once('exit', resolve));
      echo.kill('SIGTERM');
      await exited;
    }
    ns.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

async function commitLatency(path: string, count: number): Promise<{ p50: number; p99: number }> {
  const store = await SqliteStore.open(path);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await store.append({ from: 'BENCH', to: 'BENCH', text: 'commit latency', via: 'smb', senderUid: null, senderAddress: '127.0.0.1:1' });
      latencies.push(performance.now() - started);
    }
  } finally {
    await store.close();
  }
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(count * 0.5)] as number, p99: latencies[Math.floor(count * 0.99)] as number };
}

await main();
