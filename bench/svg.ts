/**
 * Horizontal bar charts as SVG text, for docs/benchmarks.md. Written by hand: one chart type,
 * no runtime, and a file a browser and GitHub show as it is (a plotting library would bring a
 * DOM or a canvas for the same rectangles).
 */

export interface Bar {
  label: string;
  value: number;
  /** A figure shown at the bar's end instead of the value (e.g. "0.52 ms"). */
  text?: string;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  /** The axis's unit, after each tick: "ms", "messages/s". */
  unit: string;
  groups: BarGroup[];
  /** A log scale, for figures that span decades (the echo's 0.1 ms beside smbd's 40 ms). */
  log?: boolean;
}

/** One colour per bar label, the same in every chart: netsend is always the same blue. */
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const LABEL_WIDTH = 190;
const PLOT_WIDTH = 470;
const BAR_HEIGHT = 16;
const GROUP_GAP = 14;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const round = (x: number) => Math.round(x * 10) / 10;

/** Ticks at 1, 10, 100, … (log) or at a round step (linear), covering [min, max]. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
    return out;
  }
  const step = 10 ** Math.floor(Math.log10(max || 1));
  const nice = max / step > 5 ? step * 2 : max / step > 2 ? step : step / 2;
  return Array.from({ length: Math.ceil(max / nice) + 1 }, (_, i) => i * nice);
}

const tickLabel = (value: number) => (value >= 1000 ? value.toLocaleString('en-US') : String(Number(value.toPrecision(3))));

export function barChart(chart: BarChart): string {
  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => Number.isFinite(v) && v > 0);
  const log = chart.log === true;
  const axis = ticks(log ? Math.min(...values) : 0, Math.max(...values, 1e-9), log);
  const [low, high] = [axis[0] as number, axis.at(-1) as number];
  const x = (value: number) =>
    LABEL_WIDTH + (log ? (Math.log10(Math.max(value, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low) || 1) : value / (high || 1)) * PLOT_WIDTH;
  const colours = new Map<string, string>();
  for (const bar of chart.groups.flatMap((g) => g.bars)) if (!colours.has(bar.label)) colours.set(bar.label, PALETTE[colours.size % PALETTE.length] as string);

  const parts: string[] = [];
  let y = 40;
  for (const group of chart.groups) {
    parts.push(`<text x="8" y="${y + 11}" font-weight="bold">${escape(group.label)}</text>`);
    y += 18;
    for (const bar of group.bars) {
      const end = Number.isFinite(bar.value) && bar.value > 0 ? x(bar.value) : LABEL_WIDTH;
      parts.push(
        `<text x="${LABEL_WIDTH - 6}" y="${y + 12}" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${round(end - LABEL_WIDTH)}" height="${BAR_HEIGHT}" fill="${colours.get(bar.label)}"/>`,
        `<text x="${round(end + 4)}" y="${y + 12}">${escape(bar.text ?? tickLabel(bar.value))}</text>`,
      );
      y += BAR_HEIGHT + 4;
    }
    y += GROUP_GAP;
  }
  const grid = axis.map((t) => {
    const at = round(x(t));
    return `<line x1="${at}" y1="32" x2="${at}" y2="${y}" stroke="#d4d4d8"/><text x="${at}" y="${y + 14}" text-anchor="middle" fill="#52525b">${tickLabel(t)}</text>`;
  });
  const width = LABEL_WIDTH + PLOT_WIDTH + 90;
  const height = y + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
    ...grid,
    ...parts,
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${y + 32}" text-anchor="middle" fill="#52525b">${escape(chart.unit)}${log ? ' (log scale)' : ''}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
