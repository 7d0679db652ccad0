/** The order statistics the benchmarks print. */

/** A figure as printed (`digits` decimals), as a number for the BENCH_RESULT line. */
export const printed = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The value at percentile `p` (0–100) of an ascending list; NaN for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The median of values in any order (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Per-round ratios as "1.32× (1.10–1.61×)": their median and, when there are rounds to range over,
 * their range; sets the figures `key` (the median), `keyMin` and `keyMax`. A ratio taken within a
 * round compares servers that ran side by side, so the shared machine's drift cancels.
 */
export function ratioSummary(key: string, ratios: readonly number[], figures: Record<string, unknown>): string {
  const [mid, min, max] = [median(ratios), Math.min(...ratios), Math.max(...ratios)].map((x) => Number(x.toFixed(2))) as [number, number, number];
  Object.assign(figures, { [key]: mid, [`${key}Min`]: min, [`${key}Max`]: max });
  return `${mid.toFixed(2)}×${ratios.length > 1 ? ` (${min.toFixed(2)}–${max.toFixed(2)}×)` : ''}`;
}

/**
 * Prints the line every benchmark ends its stdout with, once: `BENCH_RESULT {json}`, `bench` its
 * name and then every figure it printed (times in ms, rates per second, memory in MiB, as numbers;
 * NaN, for a figure with no samples, becomes null), or `skipped` and why, for scripts to compare
 * and check runs.
 */
export function benchResult(bench: string, figures: Record<string, unknown>): void {
  console.log(`BENCH_RESULT ${JSON.stringify({ bench, ...figures })}`);
}
