/**
 * Durability soak: N rounds of SIGKILL under load. Each round starts a daemon on the same data
 * dir, loads it through the local API (control socket) and over SMB, kills it with SIGKILL at a
 * random moment, restarts it and checks that every message that was acknowledged is stored, once.
 * A script that prints figures, not a test: rerun it on any machine.
 *
 *   npm run soak                       SOAK_ROUNDS=5 SOAK_SECONDS=4 by default
 *
 * Loopback only. Ends with one `BENCH_RESULT {json}` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/lib/client.js';
import { NETSEND_BIN, daemonNodeFlags } from '../test/helpers/daemon.js';
import { smbSession } from '../test/helpers/senders.js';
import { benchResult } from './stats.js';

const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 5);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 4);
const LOCAL_CLIENTS = 4;
const SMB_SESSIONS = 4;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts the daemon directly (no npx), with limits out of the way: the soak measures durability, not the front door. */
async function startDaemon(dataDir: string, smbPort: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...daemonNodeFlags(), NETSEND_BIN, 'serve', '--data-dir', dataDir, '--smb-ports', String(smbPort), '--nbt-port', '0', '--dgram-port', '0', '--secure-port', '0', '--http-port', '0',
      '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no',
      '--source-message-rate', '100000', '--source-message-burst', '100000', '--global-message-rate', '100000'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + 15_000;
  while (!stderr.includes('Messenger service started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the daemon did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child;
}

async function stored(dataDir: string): Promise<Map<string, number>> {
  const client = await connect({ dataDir });
  const counts = new Map<string, number>();
  try {
    for (let after = 0; ; ) {
      const page = await client.inbox.list({ afterId: after, limit: 1000 });
      if (page.length === 0) break;
      for (const message of page) counts.set(message.text, (counts.get(message.text) ?? 0) + 1);
      after = page.at(-1)?.id ?? after;
    }
  } finally {
    await client.close();
  }
  return counts;
}

interface Round {
  round: number;
  killedAfterMs: number;
  ackedLocal: number;
  ackedSmb: number;
  stored: number;
  lost: number;
  duplicated: number;
}

async function round(n: number, dataDir: string, smbPort: number): Promise<Round> {
  let daemon = await startDaemon(dataDir, smbPort);
  const acked: string[] = [];
  let ackedLocal = 0;
  let ackedSmb = 0;
  let stop = false;
  const local = Array.from({ length: LOCAL_CLIENTS }, async (_, c) => {
    const client = await connect({ dataDir }).catch(() => null);
    for (let i = 0; client !== null && !stop; i++) {
      const text = `r${n} local ${c} #${i}`;
      try {
        await client.send({ to: 'SOAK', text });
        acked.push(text);
        ackedLocal++;
      } catch {
        break; // the daemon is gone: what was not acknowledged may or may not be stored
      }
    }
    await client?.close().catch(() => {});
  });
  const smb = Array.from({ length: SMB_SESSIONS }, async (_, c) => {
    const session = await smbSession(smbPort, '127.0.0.1').catch(() => null);
    for (let i = 0; session !== null && !stop; i++) {
      const text = `r${n} smb ${c} #${i}`;
      const ok = await Promise.race([session.send('SOAKER', text, 'SOAK'), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000))]);
      if (!ok) break;
      acked.push(text);
      ackedSmb++;
    }
    session?.close();
  });
  const killedAfterMs = Math.round(SECONDS * 1000 * (0.5 + Math.random() / 2));
  await new Promise((resolve) => setTimeout(resolve, killedAfterMs));
  daemon.kill('SIGKILL');
  await new Promise((resolve) => daemon.once('exit', resolve));
  stop = true;
  await Promise.all([...local, ...smb]);
  daemon = await startDaemon(dataDir, smbPort);
  try {
    const counts = await stored(dataDir);
    const mine = [...counts].filter(([text]) => text.startsWith(`r${n} `));
    return {
      round: n,
      killedAfterMs,
      ackedLocal,
      ackedSmb,
      stored: mine.reduce((sum, [, count]) => sum + count, 0),
      lost: acked.filter((text) => !counts.has(text)).length,
      duplicated: mine.filter(([, count]) => count > 1).length,
    };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'netsend-soak-'));
  const smbPort = await freePort();
  try {
    // the alias the load goes to, added once: it persists across the kills
    const setup = await startDaemon(dataDir, smbPort);
    const client = await connect({ dataDir });
    await client.names.add('SOAK');
    await client.close();
    setup.kill('SIGTERM');
    await new Promise((resolve) => setup.once('exit', resolve));

    console.log(`durability soak: ${ROUNDS} rounds, SIGKILL within ${SECONDS} s of load (${LOCAL_CLIENTS} local clients, ${SMB_SESSIONS} SMB sessions)`);
    console.log('round  killed at  acked (local + SMB)  stored  lost  duplicated');
    const rounds: Round[] = [];
    for (let n = 1; n <= ROUNDS; n++) {
      const r = await round(n, dataDir, smbPort);
      rounds.push(r);
      console.log(
        `${String(r.round).padStart(5)}  ${`${(r.killedAfterMs / 1000).toFixed(1)} s`.padStart(9)}  ${`${r.ackedLocal + r.ackedSmb} (${r.ackedLocal} + ${r.ackedSmb})`.padStart(19)}  ${String(r.stored).padStart(6)}  ${String(r.lost).padStart(4)}  ${String(r.duplicated).padStart(10)}`,
      );
    }
    const total = (key: keyof Round) => rounds.reduce((sum, r) => sum + r[key], 0);
    console.log(`in all: ${total('ackedLocal') + total('ackedSmb')} acknowledged, ${total('stored')} stored, ${total('lost')} lost, ${total('duplicated')} duplicated`);
    benchResult('soak', { rounds: ROUNDS, seconds: SECONDS, localClients: LOCAL_CLIENTS, smbSessions: SMB_SESSIONS, acked: total('ackedLocal') + total('ackedSmb'), ackedLocal: total('ackedLocal'), ackedSmb: total('ackedSmb'), stored: total('stored'), lost: total('lost'), duplicated: total('duplicated'), perRound: rounds });
    if (total('lost') > 0) process.exitCode = 1;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
