/**
 * Cumulative mining metrics, computed after every round over the labeled real rows (seeds are
 * not counted), as in §3 of the paper.
 */

/** One row of `metrics.csv`: the state after a round. Column names are part of the CLI contract. */
export interface MetricsRow {
  /** Round number, from 1. */
  round: number;
  /** Real rows sent to the oracle so far (cumulative). */
  queried: number;
  /** `queried / corpus size`: the paper's ratio of queried data. */
  query_ratio: number;
  /** Positives among the queried rows (cumulative). */
  positives_found: number;
  /** `positives_found / queried`. */
  precision: number;
  /** `positives_found / positives in the corpus` (needs ground truth; NaN without it). */
  recall: number;
  /** Harmonic mean of precision and recall. */
  f1: number;
  /** Expected recall of random querying at the same ratio (= query_ratio). */
  random_recall: number;
  /** Expected precision of random querying (= the positive base rate). */
  random_precision: number;
  /** Expected F1 of random querying at the same ratio. */
  random_f1: number;
}

/** The column order of `metrics.csv`. */
export const METRICS_COLUMNS: ReadonlyArray<keyof MetricsRow> = [
  'round',
  'queried',
  'query_ratio',
  'positives_found',
  'precision',
  'recall',
  'f1',
  'random_recall',
  'random_precision',
  'random_f1',
];

function f1(p: number, r: number): number {
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
}

/**
 * Metrics after a round. `totalPositives` is the number of positives in the corpus when ground
 * truth is known (experiments), or `undefined` (recall, F1 and the random lines are then NaN).
 */
export function metricsRow(
  round: number,
  queried: number,
  positivesFound: number,
  corpusSize: number,
  totalPositives?: number,
): MetricsRow {
  const ratio = corpusSize > 0 ? queried / corpusSize : 0;
  const precision = queried > 0 ? positivesFound / queried : 0;
  const known = totalPositives !== undefined && totalPositives > 0;
  const recall = known ? positivesFound / totalPositives : Number.NaN;
  const base = known ? totalPositives / corpusSize : Number.NaN;
  return {
    round,
    queried,
    query_ratio: ratio,
    positives_found: positivesFound,
    precision,
    recall,
    f1: known ? f1(precision, recall) : Number.NaN,
    random_recall: known ? ratio : Number.NaN,
    random_precision: base,
    random_f1: known ? f1(base, ratio) : Number.NaN,
  };
}
