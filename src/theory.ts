/**
 * What the paper's theory (§5, Proposition 1) says about one round of seed → neighbour querying:
 * the expected precision and recall of querying the seeds `S` and the neighbours of the positive
 * ones, `Q = S ∪ N(S₊)`, on a `d`-regular graph, from
 * - `p`: validity, the share of synthetic seeds that are truly positive;
 * - `q1`, `q2`: the probability that a vertex adjacent to exactly one (two) positive seeds is
 *   positive (`0 < q1 < q2 < 2·q1`; independent links give `q2 = 2·q1 − q1²`);
 * - `d`: the degree; `h(S₊) = |N(S₊)| / |S₊|`: the seeds' vertex expansion (diversity).
 *
 *   E[P/|Q|] = (2q1 − q2) + (1 + q2(d + 1/p) − q1(d + 2/p)) / ((1 − p)/p + h)
 *   E[P/|V|] = p|S|/|V| · ((1 − 2q1 + q2) + (q2 − q1)d + (2q1 − q2)h)
 *
 * (The paper calls `P/|V|` recall: found positives over all vertices.) Above the threshold
 * `p* = (2q1 − q2) / (1 + (q2 − q1)d)` more diverse seeds lower precision; below it they raise it.
 */
import { InvalidArgumentError } from './errors';
import { bipartiteTopK, type Matrix } from './kernels';

/** Inputs of {@link proposition1}. */
export interface TheoryInput {
  p: number;
  q1: number;
  q2: number;
  d: number;
  h: number;
  /** `|S|`, the number of seeds. */
  seeds: number;
  /** `|V|`, the number of vertices (the corpus). */
  vertices: number;
}

/** What Proposition 1 expects of one round. */
export interface TheoryResult {
  /** E[P / |Q|]. */
  precision: number;
  /** E[P / |V|] (the paper's recall). */
  recall: number;
  /** E[P], expected positives in `Q`. */
  positives: number;
  /** |Q| = (1 − p + p·h)|S|. */
  queried: number;
  /** The validity threshold `p*`. */
  threshold: number;
  /** `high`: p > p* (diversity lowers precision); `low`: p < p* (diversity raises it). */
  regime: 'high' | 'low';
  /** Assumptions the inputs break (empty when all hold). */
  warnings: string[];
}

function check(name: string, v: number, lo: number, hi: number, openLo = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || (openLo ? v <= lo : v < lo) || v > hi) {
    throw new InvalidArgumentError(name, `must be a number in ${openLo ? '(' : '['}${lo}, ${hi}], got ${v}`);
  }
}

/** Proposition 1 of the paper: expected precision and recall of one round. */
export function proposition1(input: TheoryInput): TheoryResult {
  const { p, q1, q2, d, h, seeds, vertices } = input;
  check('p', p, 0, 1, true);
  check('q1', q1, 0, 1);
  check('q2', q2, 0, 1);
  check('d', d, 0, Number.MAX_SAFE_INTEGER);
  check('h', h, 1, Number.MAX_SAFE_INTEGER);
  check('seeds', seeds, 0, Number.MAX_SAFE_INTEGER, true);
  check('vertices', vertices, 0, Number.MAX_SAFE_INTEGER, true);
  const warnings: string[] = [];
  if (!(q1 > 0 && q1 < q2 && q2 < 2 * q1)) warnings.push(`Assumption 3 wants 0 < q1 < q2 < 2·q1 (q1 = ${q1}, q2 = ${q2})`);
  if (h > d + 1) warnings.push(`h(S+) = ${h} exceeds d + 1 = ${d + 1}, impossible on a d-regular graph`);
  const factor = 1 - 2 * q1 + q2 + (q2 - q1) * d + (2 * q1 - q2) * h;
  const positives = p * seeds * factor;
  const queried = (1 - p + p * h) * seeds;
  const precision = 2 * q1 - q2 + (1 + q2 * (d + 1 / p) - q1 * (d + 2 / p)) / ((1 - p) / p + h);
  const threshold = (2 * q1 - q2) / (1 + (q2 - q1) * d);
  return { precision, recall: positives / vertices, positives, queried, threshold, regime: p > threshold ? 'high' : 'low', warnings };
}

/** Graph quantities estimated from the seeds and corpus (and labels, when known). */
export interface TheoryEstimate {
  /** Mean number of corpus neighbours per seed (edges above τ, at most d_max). */
  d: number;
  /** |S ∪ N(S)| / |S|, treating every seed as positive. */
  h: number;
  /** Corpus rows adjacent to exactly one seed, and to two or more. */
  adjacentToOne: number;
  adjacentToTwoOrMore: number;
  /** Share of positives among rows adjacent to exactly one seed (when labels are given). */
  q1?: number;
  /** Share of positives among rows adjacent to two or more seeds (when labels are given). */
  q2?: number;
  /**
   * Measured precision of `S ∪ N(S)` with every seed counted positive (when labels are given):
   * what Proposition 1's `E[P/|Q|]` predicts at p = 1, on this data.
   */
  measuredPrecision?: number;
}

/**
 * Estimate `d`, `h(S₊)` and, with labels, `q1`/`q2` from the seeds' bipartite graph on the corpus
 * (each seed's top `dmax` corpus rows above `tau`), taking every seed as positive.
 */
export async function estimateTheoryInputs(
  corpus: Matrix,
  seeds: Matrix,
  options: { tau: number; dmax: number; labels?: ArrayLike<boolean> },
): Promise<TheoryEstimate> {
  const g = await bipartiteTopK(seeds, corpus, { k: options.dmax, threshold: options.tau });
  const touches = new Uint32Array(corpus.rows);
  for (const id of g.ids) touches[id]++;
  let one = 0;
  let more = 0;
  let posOne = 0;
  let posMore = 0;
  for (let i = 0; i < corpus.rows; i++) {
    if (touches[i] === 1) {
      one++;
      if (options.labels?.[i]) posOne++;
    } else if (touches[i] >= 2) {
      more++;
      if (options.labels?.[i]) posMore++;
    }
  }
  const est: TheoryEstimate = {
    d: g.ids.length / seeds.rows,
    h: (seeds.rows + one + more) / seeds.rows,
    adjacentToOne: one,
    adjacentToTwoOrMore: more,
  };
  if (options.labels) {
    if (one > 0) est.q1 = posOne / one;
    if (more > 0) est.q2 = posMore / more;
    est.measuredPrecision = (seeds.rows + posOne + posMore) / (seeds.rows + one + more);
  }
  return est;
}
