/**
 * Spread over several seed draws: metrics curves have different query ratios per draw, so each
 * is read as a step function (the value after the last round at or below a ratio) on a common grid.
 */
import type { MetricsRow } from './metrics';

/** A metric of a run at `ratio`: its value after the last round with `query_ratio <= ratio` (0 before any). */
export function valueAt(rows: readonly MetricsRow[], ratio: number, metric: 'recall' | 'precision' | 'f1' = 'recall'): number {
  let v = 0;
  for (const r of rows) {
    if (r.query_ratio <= ratio + 1e-12) v = r[metric];
    else break;
  }
  return v;
}

/** Mean, standard deviation, min and max of a list. */
export function summary(xs: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

/** Min/max recall over runs on `points` evenly spaced ratios up to the largest ratio reached. */
export function recallBand(
  runs: readonly (readonly MetricsRow[])[],
  points = 60,
): { query_ratio: number[]; low: number[]; high: number[] } {
  const top = Math.max(0, ...runs.map((r) => (r.length ? r[r.length - 1].query_ratio : 0)));
  const q: number[] = [];
  const low: number[] = [];
  const high: number[] = [];
  for (let i = 1; i <= points; i++) {
    const x = (top * i) / points;
    const vs = runs.map((r) => valueAt(r, x));
    q.push(x);
    low.push(Math.min(...vs));
    high.push(Math.max(...vs));
  }
  return { query_ratio: q, low, high };
}
