/**
 * `npm run bench:report`: runs the benchmarks (local sends, SMB, the web inbox, inbox size) one
 * after another, and writes docs/benchmarks.md with the machine, the date, the tables, the issue's
 * targets beside what was measured, and SVG plots in docs/benchmarks/. Each benchmark's figures
 * are read from its `BENCH_RESULT` line; its own output is passed through as it runs.
 *
 *   npm run bench:report                 BENCH_SCALE_SIZES, BENCH_ROUNDS, … pass through
 *   npm run bench:report -- --from FILE  writes the report again from the BENCH_RESULT lines in
 *                                        FILE (an earlier docs/benchmarks.md), running nothing
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { barChart, type BarGroup } from './svg.js';

type Figures = Record<string, number | string | null | undefined>;

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const BENCHES = ['local', 'smb', 'web', 'scale'] as const;

/** Runs one benchmark to its end, its output passed through; its BENCH_RESULT figures. */
function run(name: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = output.trimEnd().split('\n').at(-1) ?? '';
      if (!line.startsWith('BENCH_RESULT ')) return reject(new Error(`bench ${name} exited ${code} without a BENCH_RESULT line`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as Figures);
    });
  });
}

const num = (figures: Figures, key: string): number => {
  const value = figures[key];
  return typeof value === 'number' ? value : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : '–');
const rate = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US') : '–');
/** "1.08× (1.02–1.20×)" from a ratio's median and range keys. */
const ratio = (figures: Figures, key: string) => {
  const [mid, min, max] = [num(figures, key), num(figures, `${key}Min`), num(figures, `${key}Max`)];
  if (!Number.isFinite(mid)) return '–';
  return min === max || !Number.isFinite(min) ? `${mid.toFixed(2)}×` : `${mid.toFixed(2)}× (${min.toFixed(2)}–${max.toFixed(2)}×)`;
};

function machine(): string[] {
  const disk = spawnSync('findmnt', ['-no', 'SOURCE,FSTYPE', '-T', tmpdir()], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  return [
    `- ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory, Linux ${release()}`,
    `- Node ${process.version}; the data dirs on ${disk} (${tmpdir()}), SQLite in WAL, each commit's log on disk before its reply`,
    `- A shared machine: figures drift from run to run, so each ratio is taken between servers that ran side by side in the same round.`,
  ];
}

interface Target {
  what: string;
  goal: string;
  measured: string;
  holds: boolean | null;
}

function targets(r: Record<(typeof BENCHES)[number], Figures>, largest: number): Target[] {
  const t = (what: string, goal: string, value: number, text: string, ok: (x: number) => boolean): Target => ({ what, goal, measured: text, holds: Number.isFinite(value) ? ok(value) : null });
  return [
    t('local sends paced at 1,000/s: p99 send→stored', '≤ 1.5× the durable floor', num(r.local, 'pacedP99ToFloor'), ratio(r.local, 'pacedP99ToFloor'), (x) => x <= 1.5),
    t('SMB, many messages per session: p99', '≤ 1.5× the durable floor', num(r.smb, 'perSessionNetsendToFloorP99'), ratio(r.smb, 'perSessionNetsendToFloorP99'), (x) => x <= 1.5),
    t('SMB throughput, one message per connection', '≥ 10× smbd', num(r.smb, 'perConnectionNetsendToSmbdThroughput'), ratio(r.smb, 'perConnectionNetsendToSmbdThroughput'), (x) => x >= 10),
    t('SMB throughput, many messages per session', '≥ 20× smbd', num(r.smb, 'perSessionNetsendToSmbdThroughput'), ratio(r.smb, 'perSessionNetsendToSmbdThroughput'), (x) => x >= 20),
    t('web inbox: send→painted p99', '≤ 30 ms', num(r.web, 'paintedP99Ms'), ms(num(r.web, 'paintedP99Ms')), (x) => x <= 30),
    t('daemon RSS, idle', '≤ 64 MiB', num(r.local, 'idleRssMiB'), `${num(r.local, 'idleRssMiB')} MiB`, (x) => x <= 64),
    t('1,000 idle SMB connections', 'add ≤ 20 MiB', num(r.smb, 'idleRssAddedMiB'), `${num(r.smb, 'idleRssAddedMiB')} MiB`, (x) => x <= 20),
    t(`a sweep page at ${largest.toLocaleString('en-US')} waiting`, '≤ 2 ms', num(r.scale, `sweepLast50PagesMs_${largest}`), ms(num(r.scale, `sweepLast50PagesMs_${largest}`)), (x) => x <= 2),
  ];
}

function localSection(f: Figures): string[] {
  const row = (label: string, key: string) => `| ${label} | ${rate(num(f, `${key}Clients1SendsPerSecond`))} | ${rate(num(f, `${key}Clients16SendsPerSecond`))} | ${ms(num(f, `${key}PacedP50Ms`))} | ${ms(num(f, `${key}PacedP99Ms`))} | ${ms(num(f, `${key}PacedMaxMs`))} |`;
  return [
    '## Local sends (`npm run bench`)',
    '',
    `Clients on the control socket; every send acknowledged after its commit. Medians of ${f.rounds} rounds of ${f.seconds} s; the daemon's listeners: ${f.listeners}.`,
    '',
    '| server | 1 client, sends/s | 16 clients, sends/s | paced 1,000/s p50 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('netsend', 'netsend'),
    row('durable floor', 'floor'),
    '',
    `netsend's paced p99 is ${ratio(f, 'pacedP99ToFloor')} the floor's; with 16 clients it sends ${ratio(f, 'clients16ToFloor')} as many (group commit: one fsync serves many sends).`,
    `During the paced runs the daemon's event loop was late by at most ${ms(num(f, 'pacedDaemonLoopDelayMaxMs'))} (p99 ${ms(num(f, 'pacedDaemonLoopDelayP99Ms'))}), and it spent ${ms(num(f, 'pacedDaemonGcTotalMs'))} in ${num(f, 'pacedDaemonGcCount')} GC pauses (the longest ${ms(num(f, 'pacedDaemonGcMaxMs'))}).`,
    `Daemon RSS: ${num(f, 'idleRssMiB')} MiB idle, ${num(f, 'peakRssMiB')} MiB at its peak.`,
    '',
    '![Local send latency](benchmarks/local-latency.svg)',
    '',
  ];
}

const SMB_SERVERS = [['netsend', 'Netsend'], ['Samba smbd', 'Smbd'], ['durable floor', 'Floor'], ['TCP echo', 'Echo']] as const;
const SMB_MODES = [['one message per connection', 'perConnection'], ['many messages per session', 'perSession']] as const;

function smbSection(f: Figures): string[] {
  if (typeof f.skipped === 'string') return ['## SMB (`npm run bench:smb`)', '', `Not run: ${f.skipped}`, ''];
  const lines = ['## SMB (`npm run bench:smb`)', '', `The bytes smbclient -M sends, from ${f.clients} concurrent clients, in a loopback-only namespace; medians of ${f.rounds} rounds of ${f.seconds} s.`, ''];
  for (const [mode, key] of SMB_MODES) {
    lines.push(`**${mode}**`, '', '| server | messages/s | p50 | p99 |', '| --- | ---: | ---: | ---: |');
    for (const [label, server] of SMB_SERVERS) lines.push(`| ${label} | ${rate(num(f, `${key}${server}MessagesPerSecond`))} | ${ms(num(f, `${key}${server}P50Ms`))} | ${ms(num(f, `${key}${server}P99Ms`))} |`);
    lines.push('', `netsend ÷ smbd, messages/s: ${ratio(f, `${key}NetsendToSmbdThroughput`)}; netsend's p99 ÷ the durable floor's: ${ratio(f, `${key}NetsendToFloorP99`)}.`, '');
  }
  lines.push(
    `${num(f, 'idleConnections')} idle connections (8 from each of 125 addresses): netsend held ${num(f, 'idleHeld')} (its session cap) and refused ${num(f, 'idleRefused')}; its RSS grew by ${num(f, 'idleRssAddedMiB')} MiB.`,
    '',
    '![SMB latency](benchmarks/smb-latency.svg)',
    '',
    '![SMB throughput](benchmarks/smb-throughput.svg)',
    '',
  );
  return lines;
}

function webSection(f: Figures): string[] {
  if (typeof f.skipped === 'string') return ['## Web inbox (`npm run bench:web`)', '', `Not run: ${f.skipped}`, ''];
  return [
    '## Web inbox (`npm run bench:web`)',
    '',
    `${f.messages} messages sent one at a time, shown on an open page in headless Chromium; then the same through the durable floor's page (a commit, a push over Server-Sent Events, a list item on a bare page) in the same browser.`,
    '',
    '| from send to | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: |',
    `| in the page (DOM) | ${ms(num(f, 'inPageP50Ms'))} | ${ms(num(f, 'inPageP99Ms'))} | ${ms(num(f, 'inPageMaxMs'))} |`,
    `| painted (next frame) | ${ms(num(f, 'paintedP50Ms'))} | ${ms(num(f, 'paintedP99Ms'))} | ${ms(num(f, 'paintedMaxMs'))} |`,
    `| the floor: in the page | ${ms(num(f, 'floorInPageP50Ms'))} | ${ms(num(f, 'floorInPageP99Ms'))} | ${ms(num(f, 'floorInPageMaxMs'))} |`,
    `| the floor: painted | ${ms(num(f, 'floorPaintedP50Ms'))} | ${ms(num(f, 'floorPaintedP99Ms'))} | ${ms(num(f, 'floorPaintedMaxMs'))} |`,
    '',
    `netsend's painted p99 is ${Number.isFinite(num(f, 'paintedP99ToFloor')) ? `${num(f, 'paintedP99ToFloor').toFixed(2)}×` : '–'} the floor's.`,
    '',
  ];
}

function scaleSection(f: Figures, sizes: number[]): string[] {
  const cell = (key: string, format: (x: number) => string) => sizes.map((n) => format(num(f, `${key}_${n}`))).join(' | ');
  const s = (x: number) => (Number.isFinite(x) ? `${x} s` : '–');
  const mib = (x: number) => (Number.isFinite(x) ? `${x} MiB` : '–');
  return [
    '## Inbox size (`npm run bench:scale`)',
    '',
    'A data dir filled with N messages, then a real daemon on it. What should not grow with N does not.',
    '',
    `| | ${sizes.map((n) => n.toLocaleString('en-US')).join(' | ')} |`,
    `| --- |${sizes.map(() => ' ---: |').join('')}`,
    `| sweep page of 200 waiting, the first 50 pages | ${cell('sweepFirst50PagesMs', ms)} |`,
    `| … the last 50 pages | ${cell('sweepLast50PagesMs', ms)} |`,
    `| daemon start | ${cell('startSeconds', s)} |`,
    `| daemon RSS, idle | ${cell('idleRssMiB', mib)} |`,
    `| a send, p50 | ${cell('sendP50Ms', ms)} |`,
    `| a send, p99 | ${cell('sendP99Ms', ms)} |`,
    `| \`netsend inbox --limit 10\` | ${cell('inboxLimit10Seconds', s)} |`,
    `| … its peak RSS | ${cell('inboxLimit10PeakMiB', mib)} |`,
    `| \`netsend inbox --json\`, all of it | ${cell('inboxAllSeconds', s)} |`,
    `| … its peak RSS | ${cell('inboxAllPeakMiB', mib)} |`,
    `| N expired while the daemon was off: the first sweep's (10,000 or all) marked | ${cell('expiredFirstSweepSeconds', s)} |`,
    `| … a send's p99 meanwhile | ${cell('sendDuringBacklogP99Ms', ms)} |`,
    '',
    '![Inbox size](benchmarks/scale.svg)',
    '',
  ];
}

function charts(r: Record<(typeof BENCHES)[number], Figures>, sizes: number[]): Record<string, string> {
  /** One group a percentile, one bar a server: servers side by side, each in its own colour. */
  const byPercentile = (f: Figures, label: string, servers: ReadonlyArray<readonly [string, string]>, percentiles: readonly string[]): BarGroup[] =>
    percentiles.map((p) => ({
      label: `${label}${p.toLowerCase()}`,
      bars: servers.map(([server, prefix]) => ({ label: server, value: num(f, `${prefix}${p}Ms`), text: ms(num(f, `${prefix}${p}Ms`)) })),
    }));
  const out: Record<string, string> = {
    'local-latency.svg': barChart({
      title: 'Local sends paced at 1,000/s: send→stored',
      unit: 'ms',
      log: true,
      groups: byPercentile(r.local, '', [['netsend', 'netsendPaced'], ['durable floor', 'floorPaced']], ['P50', 'P99', 'Max']),
    }),
  };
  if (typeof r.smb.skipped !== 'string') {
    out['smb-latency.svg'] = barChart({
      title: 'SMB messages: latency per message',
      unit: 'ms',
      log: true,
      groups: SMB_MODES.flatMap(([mode, key]) => byPercentile(r.smb, `${mode}: `, SMB_SERVERS.map(([label, server]) => [label, `${key}${server}`] as const), ['P50', 'P99'])),
    });
    out['smb-throughput.svg'] = barChart({
      title: 'SMB messages per second',
      unit: 'messages/s',
      log: true,
      groups: SMB_MODES.map(([mode, key]) => ({ label: mode, bars: SMB_SERVERS.map(([label, server]) => ({ label, value: num(r.smb, `${key}${server}MessagesPerSecond`) })) })),
    });
  }
  out['scale.svg'] = barChart({
    title: 'What stays flat as the inbox grows',
    unit: 'ms',
    log: true,
    groups: [
      ['sweep page (last 50)', 'sweepLast50PagesMs', 1],
      ['a send, p99', 'sendP99Ms', 1],
      ['inbox --limit 10', 'inboxLimit10Seconds', 1000],
    ].map(([label, key, factor]) => ({
      label: label as string,
      bars: sizes.map((n) => ({ label: `${n.toLocaleString('en-US')} stored`, value: num(r.scale, `${key}_${n}`) * (factor as number), text: ms(num(r.scale, `${key}_${n}`) * (factor as number)) })),
    })),
  });
  return out;
}

async function main(): Promise<void> {
  const results = {} as Record<(typeof BENCHES)[number], Figures>;
  const from = process.argv.indexOf('--from');
  // the runs' own date and machine: from the earlier report when its figures are reused
  let made = new Date().toISOString().slice(0, 10);
  let onMachine = machine();
  if (from >= 0) {
    const earlier = (await readFile(process.argv[from + 1] ?? '', 'utf8')).split('\n');
    made = /on (\d{4}-\d{2}-\d{2})\./.exec(earlier.find((line) => line.startsWith('Made by')) ?? '')?.[1] ?? 'an earlier date';
    const at = earlier.indexOf('## The machine');
    if (at >= 0) onMachine = earlier.slice(at + 2, earlier.indexOf('', at + 2));
    const kept = earlier.filter((line) => line.startsWith('BENCH_RESULT '));
    for (const line of kept) {
      const figures = JSON.parse(line.slice('BENCH_RESULT '.length)) as Figures;
      if (BENCHES.includes(figures.bench as (typeof BENCHES)[number])) results[figures.bench as (typeof BENCHES)[number]] = figures;
    }
    const missing = BENCHES.filter((name) => results[name] === undefined);
    if (missing.length > 0) throw new Error(`no BENCH_RESULT line of ${missing.join(', ')} in ${process.argv[from + 1]}`);
  } else {
    for (const name of BENCHES) results[name] = await run(name);
  }
  const sizes = String(results.scale.sizes ?? '').split(',').map(Number).filter((n) => n > 0);
  const largest = Math.max(...sizes);
  const markdown = [
    '# Benchmarks',
    '',
    `Made by \`npm run bench:report\` on ${made}. Every figure below comes from the benchmarks' own \`BENCH_RESULT\` lines, kept at the end.`,
    '',
    '## The machine',
    '',
    ...onMachine,
    '',
    '**The durable floor** is the least a messenger does per message when each reply waits for its own commit: a server of its own process that makes one fsync\'d SQLite commit of the text and replies, nothing else, on the same transport (`bench/floor.ts`). netsend\'s latency is judged as a ratio to it, measured in the same run. Under concurrency netsend can beat it (group commit: one fsync serves many messages). The TCP echo, beside it, shows the transport alone.',
    '',
    '## Targets',
    '',
    '| | target | measured | |',
    '| --- | --- | --- | --- |',
    ...targets(results, largest).map((t) => `| ${t.what} | ${t.goal} | ${t.measured} | ${t.holds === null ? 'not measured' : t.holds ? 'holds' : '**does not hold**'} |`),
    '',
    ...localSection(results.local),
    ...smbSection(results.smb),
    ...webSection(results.web),
    ...scaleSection(results.scale, sizes),
    '## The figures as the benchmarks printed them',
    '',
    '```',
    ...BENCHES.map((name) => `BENCH_RESULT ${JSON.stringify(results[name])}`),
    '```',
    '',
  ].join('\n');
  await mkdir(`${DOCS}benchmarks`, { recursive: true });
  for (const [file, svg] of Object.entries(charts(results, sizes))) await writeFile(`${DOCS}benchmarks/${file}`, svg);
  await writeFile(`${DOCS}benchmarks.md`, markdown);
  console.log(`\nwrote ${DOCS}benchmarks.md and its plots in ${DOCS}benchmarks/`);
}

await main();
