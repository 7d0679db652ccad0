/**
 * Web inbox latency: a real daemon (subprocess, temp data dir, web inbox on a free loopback
 * port), the page open in Debian's headless Chromium, and messages sent on the control socket.
 *
 *   npm run bench:web                  BENCH_WEB_MESSAGES=300 by default
 *
 * For each message: from the moment the sender calls send() to the moment the page has put it in
 * the list (a MutationObserver in the page), and to the next animation frame after that (about
 * when it is painted). Both clocks are the machine's wall clock (performance.timeOrigin + now()).
 * Prints figures, asserts nothing. Ends with one `BENCH_RESULT {json}` line (with `skipped` and
 * why where there is no browser).
 */
import { connect } from '../src/lib/client.js';
import { browserMissing, openBrowser } from '../test/helpers/browser.js';
import { loginUrl, startWebDaemon } from '../test/helpers/web.js';
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

async function main(): Promise<Record<string, unknown>> {
  if (browserMissing !== null) {
    console.log(`web bench skipped: ${browserMissing}`);
    return { skipped: browserMissing };
  }
  const { daemon, stop } = await startWebDaemon();
  const browser = await openBrowser();
  const client = await connect({ dataDir: daemon.dataDir });
  try {
    await daemon.cli(['name', 'BENCH', '/add']);
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    // Records when each message's list item appears, and the frame after.
    // (a string: it runs in the page, whose DOM types this Node program does not compile against)
    await page.evaluate(`(() => {
      const seen = {};
      globalThis.benchSeen = seen;
      const stamp = () => performance.timeOrigin + performance.now();
      new MutationObserver((records) => {
        for (const record of records) {
          for (const node of record.addedNodes) {
            const key = /^bench (\\d+)$/.exec(node.querySelector?.('.text')?.textContent ?? '')?.[1];
            if (key === undefined) continue;
            const entry = { inserted: stamp(), painted: 0 };
            seen[key] = entry;
            requestAnimationFrame(() => (entry.painted = stamp()));
          }
        }
      }).observe(document.querySelector('#messages'), { childList: true });
    })()`);

    const inserted: number[] = [];
    const painted: number[] = [];
    let lost = 0;
    const sentAt: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      sentAt[i] = now();
      await client.send({ to: 'BENCH', text: `bench ${i}` });
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
      inserted.push(shown.inserted - (sentAt[i] as number));
      painted.push(shown.painted - (sentAt[i] as number));
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    }
    const figures: Record<string, number> = { messages: MESSAGES };
    console.log(`web inbox: ${MESSAGES} messages sent one at a time on the control socket, shown on an open page (Chromium, SSE)`);
    summary('send → in the page (DOM)', 'inPage', inserted, figures);
    summary('send → next frame (painted)', 'painted', painted, figures);
    if (lost > 0) console.log(`not shown within ${TIMEOUT_MS} ms: ${lost}`);
    return { ...figures, lost, lostAfterMs: TIMEOUT_MS };
  } finally {
    await client.close();
    await browser.close();
    await stop();
  }
}

// after the browser and the daemon are stopped: nothing comes after this line
benchResult('web', await main());
