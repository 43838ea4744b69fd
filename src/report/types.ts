/**
 * What a mining report shows. `mine` and `compare` fill this in; `writeReport` (src/report/)
 * turns it into a self-contained `report.html` plus PNG plots.
 */
import type { MetricsRow } from '../metrics';

/** One method's curve: its metrics after every round. */
export interface ReportCurve {
  /** Legend label, e.g. `gble (acs seeds)`. */
  label: string;
  /** Rows in round order. */
  rows: MetricsRow[];
  /**
   * Optional spread over several seed draws, at the same query ratios as `rows`: lower and upper
   * recall (e.g. min/max or mean ± std). Drawn as a band.
   */
  recallBand?: { query_ratio: number[]; low: number[]; high: number[] };
}

/** Everything a report shows. */
export interface ReportInput {
  /** Page title. */
  title: string;
  /** Run parameters (method, τ, d_max, K0, seeds, embedder, ...). */
  parameters: Record<string, string | number | boolean>;
  /** Wall-clock seconds per stage (read, embed, graph, rounds, ...). */
  timings: Record<string, number>;
  /** One curve per method (one for `mine`, several for `compare`). */
  curves: ReportCurve[];
  /** Free-text notes shown under the plots (warnings, theory vs measured, ...). */
  notes?: string[];
}

/** Files written by `writeReport`. */
export interface ReportFiles {
  /** Path of `report.html`. */
  html: string;
  /** Paths of the PNG plots (recall, precision, F1 against query ratio). */
  pngs: string[];
}
