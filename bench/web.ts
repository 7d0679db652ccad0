/**
 * Web inbox latency: a real daemon (subprocess, temp data dir, web inbox on a free loopback
 * port), the page open in Debian's headless Chromium, and messages sent on the control socket.
 *
 *   npm run bench:web                  BENCH_WEB_MESSAGES=300 by default
 *
 * For each message: from the moment the sender calls send() to the moment the page has put it in
 * the list (a MutationObserver in the page), and to the next animation frame after that (about
 * when it is painted). Both clocks are the machine's wall clock (performance.timeOrigin + now()).
 * Then the same messages through the durable floor (floor.ts in web mode: a commit, a push over
 * Server-Sent Events, a list item on a bare page) in the same browser: what any web inbox costs
 * here. Prints figures, asserts nothing. Ends with one `BENCH_RESULT {json}` line (with `skipped`
 * and why where there is no browser).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { connect } from '../src/lib/client.js';
import { freePort } from '../test/helpers/daemon.js';
import { browserMissing, openBrowser } from '../test/helpers/browser.js';
import { loginUrl, startWebDaemon } from '../test/helpers/web.js';
import { stopChild } from './daemon.js';
import { floorClient, startFloor } from './floor-client.js';
import { benchResult, percentile } from './stats.js';

const MESSAGES = Number(process.env.BENCH_WEB_MESSAGES ?? 300);
/** Pause between sends: one message at a time on the page, as people receive them. */
const GAP_MS = 5;
/** A message not shown within this is counted as lost, and the run goes on. */
const TIMEOUT_MS = 5000;

const now = () => performance.timeOrigin + performance.now();

/** Prints one row of the table, and adds its figures to `figures` as `keyP50Ms`, `keyP99Ms`, `keyMaxMs`, `keyCount`. */
function summary(label: string, key: string, values: number[], figures: Record<string, number>): void {
  const sorted = [...values].sort((a, b) => a - b);
  const [p50, p99, max] = [percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1) ?? NaN].map((x) => Number(x.toFixed(1))) as [number, number, number];
  Object.assign(figures, { [`${key}P50Ms`]: p50, [`${key}P99Ms`]: p99, [`${key}MaxMs`]: max, [`${key}Count`]: sorted.length });
  const f = (n: number) => n.toFixed(1).padStart(6);
  console.log(`${label.padEnd(28)} p50 ${f(p50)} ms   p99 ${f(p99)} ms   max ${f(max)} ms   (n=${sorted.length})`);
}

/** Records, in the page, when each message's list item appears under #messages, and the frame after. */
async function observe(page: Page): Promise<void> {
  // (a string: it runs in the page, whose DOM types this Node program does not compile against)
  await page.evaluate(`(() => {
    const seen = {};
    globalThis.benchSeen = seen;
    const stamp = () => performance.timeOrigin + performance.now();
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          const key = /^bench (\\d+)$/.exec(node.querySelector?.('.text')?.textContent ?? '')?.[1];
          // the first time it appears: a redraw (its 'delivered' state a moment later) is not news
          if (key === undefined || seen[key] !== undefined) continue;
          const entry = { inserted: stamp(), painted: 0 };
          seen[key] = entry;
          requestAnimationFrame(() => (entry.painted = stamp()));
        }
      }
    }).observe(document.querySelector('#messages'), { childList: true });
  })()`);
}

/** Sends MESSAGES one at a time through `send`, each awaited on the page: send→inserted and send→painted. */
async function measure(page: Page, send: (text: string) => Promise<unknown>): Promise<{ inserted: number[]; painted: number[]; lost: number }> {
  const inserted: number[] = [];
  const painted: number[] = [];
  let lost = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const sentAt = now();
    await send(`bench ${i}`);
    const deadline = Date.now() + TIMEOUT_MS;
    let shown: { inserted: number; painted: number } | undefined;
    while (Date.now() < deadline) {
      shown = await page.evaluate((key) => (globalThis as unknown as { benchSeen: Record<string, { inserted: number; painted: number }> }).benchSeen[key], String(i));
      if (shown !== undefined && shown.painted > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (shown === undefined || shown.painted === 0) {
      lost++;
      continue;
    }
    inserted.push(shown.inserted - sentAt);
    painted.push(shown.painted - sentAt);
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  return { inserted, painted, lost };
}

async function main(): Promise<Record<string, unknown>> {
  if (browserMissing !== null) {
    console.log(`web bench skipped: ${browserMissing}`);
    return { skipped: browserMissing };
  }
  const { daemon, stop } = await startWebDaemon();
  const browser = await openBrowser();
  const client = await connect({ dataDir: daemon.dataDir });
  const floorDir = await mkdtemp(join(tmpdir(), 'ns-bench-web-floor-'));
  let floor: ChildProcess | undefined;
  try {
    await daemon.cli(['name', 'BENCH', '/add']);
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    await observe(page);
    const ours = await measure(page, (text) => client.send({ to: 'BENCH', text }));

    // the durable floor's page in the same browser: a commit, a push, a list item, nothing else
    const port = await freePort();
    const started = await startFloor('web', floorDir, port);
    floor = started.child;
    const floorPage = await browser.context.newPage();
    await floorPage.goto(`http://127.0.0.1:${port}/`);
    await floorPage.locator('body[data-live="on"]').waitFor({ state: 'attached' });
    await observe(floorPage);
    const floorSender = await floorClient(started.socket);
    const theirs = await measure(floorPage, (text) => floorSender.send(text));
    await floorSender.close();

    const figures: Record<string, number> = { messages: MESSAGES };
    console.log(`web inbox: ${MESSAGES} messages sent one at a time, shown on an open page (Chromium, SSE); beside it the durable floor's page`);
    summary('send → in the page (DOM)', 'inPage', ours.inserted, figures);
    summary('send → next frame (painted)', 'painted', ours.painted, figures);
    summary('floor: send → in the page', 'floorInPage', theirs.inserted, figures);
    summary('floor: send → painted', 'floorPainted', theirs.painted, figures);
    const ratio = (figures.paintedP99Ms as number) / (figures.floorPaintedP99Ms as number);
    figures.paintedP99ToFloor = Number(ratio.toFixed(2));
    console.log(`netsend's painted p99 ÷ the floor's: ${ratio.toFixed(2)}×`);
    if (ours.lost + theirs.lost > 0) console.log(`not shown within ${TIMEOUT_MS} ms: netsend ${ours.lost}, floor ${theirs.lost}`);
    return { ...figures, lost: ours.lost, floorLost: theirs.lost, lostAfterMs: TIMEOUT_MS };
  } finally {
    await client.close();
    await browser.close();
    if (floor) await stopChild(floor);
    await stop();
    await rm(floorDir, { recursive: true, force: true });
  }
}

// after the browser and the daemon are stopped: nothing comes after this line
benchResult('web', await main());
