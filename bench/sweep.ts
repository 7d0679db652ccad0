/**
 * The expiry sweep's page cost at depth: N waiting messages, walked in pages of 200 as Receipts'
 * sweep walks them (store.events.waitingMessages with its cursor). A page should cost the same at
 * the end of the walk as at its start. `node dist/bench/sweep.js [N]` (default 200,000).
 */
import { senderOf } from '../src/messenger/sender.js';
import type { SweepCursor } from '../src/messenger/receipts.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { benchResult } from './stats.js';

const N = Number(process.argv[2] ?? 200_000);
const PAGE = 200;
const store = await SqliteStore.open(':memory:');
try {
  const now = Date.now();
  const appends = [];
  for (let i = 0; i < N; i++) appends.push(store.messages.append({ from: 'A', to: 'B', text: 'x', via: 'local', sender: senderOf({ uid: 1 }), expiresAt: now + 3_600_000 + i }));
  await Promise.all(appends);
  const times: number[] = [];
  let cursor: SweepCursor | null = null;
  // bounded: one page more than the walk needs
  for (let page = 0; page <= N / PAGE + 1; page++) {
    const started = performance.now();
    const found = await store.events.waitingMessages(cursor, now, now + 60_001, PAGE);
    times.push(performance.now() - started);
    const last = found.at(-1);
    if (last === undefined) break;
    cursor = { expiresAt: last.expiresAt ?? now, id: last.id };
  }
  const mean = (values: number[]) => Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2));
  const result = { waiting: N, pages: times.length, first50Ms: mean(times.slice(0, 50)), last50Ms: mean(times.slice(-51, -1)), worstMs: Number(Math.max(...times).toFixed(2)) };
  console.log(`${N.toLocaleString('en')} waiting messages, ${result.pages} pages of ${PAGE}: the first 50 pages ${result.first50Ms} ms each, the last 50 ${result.last50Ms} ms, the worst ${result.worstMs} ms`);
  benchResult('sweep', { ...result, pageSize: PAGE });
} finally {
  await store.close();
}
