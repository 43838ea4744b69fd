/**
 * Adaptive Coverage Sampling (ACS; Tavakkol et al., "Less is More: Adaptive Coverage for
 * Synthetic Training Data", arXiv 2504.14508), the seed selection of SYNAPSE-G §4.1.
 *
 * On the synthetic set, build an undirected graph `G_t` with an edge between rows whose cosine
 * similarity is at least `t` (every node also covers itself). Greedy max-coverage picks, up to
 * `k` times, the not-yet-covered node whose closed neighbourhood covers the most uncovered nodes.
 * A binary search over `t` finds the highest threshold whose `k` picks still cover at least a
 * `c`-portion of the set, and returns those picks.
 *
 * The neighbour lists are computed once, at `tMin`, by the Rust kNN kernel and kept sorted best
 * first, so `G_t` for any `t >= tMin` is a prefix of every list: each search step costs one lazy
 * greedy over the prefixes (O(edges + n log n)), with no similarity recomputed.
 */
import { InvalidArgumentError } from '../errors';
import { knnGraph } from '../kernels';
import type { Matrix } from '../kernels';

/** Node ids below this fit next to a float32's 32 bits in a float64 sort key (2^21). */
const ID_LIMIT = 0x200000;

/** Similarities this close to 1 count as exactly 1 (float32 cosines of identical rows). */
const ONE_EPS = 1e-6;

/** Options of {@link selectAcsSeeds}. */
export interface AcsOptions {
  /** Portion `c` of the synthetic set the picks must cover, in (0, 1]. Default 0.5 (the paper). */
  coverage?: number;
  /** Lowest similarity threshold searched. Default 0.707 (cos 45°). */
  tMin?: number;
  /** Highest similarity threshold searched. Default 1.0. */
  tMax?: number;
  /**
   * Keep only each node's `degreeCap` most similar neighbours before making the graph
   * undirected (an edge kept by either end is kept). Default: no cap. Bounds memory on large,
   * dense synthetic sets.
   */
  degreeCap?: number;
  /** The binary search stops when the threshold interval is narrower than this. Default 1e-4. */
  tolerance?: number;
}

/** What {@link selectAcsSeeds} chose. */
export interface AcsResult {
  /**
   * Row indices of the picks, in greedy order. Fewer than `k` when the picks cover every row
   * before `k` are made (e.g. `k >= n`, or duplicates).
   */
  indices: Uint32Array;
  /** The similarity threshold `t` the picks were made at. */
  threshold: number;
  /** Portion of rows the picks cover in `G_t`: `covered / n`. */
  coverage: number;
  /**
   * Whether `coverage` reaches the requested portion. `false` only when even `tMin` could not:
   * the picks at `tMin` are then returned.
   */
  reachedCoverage: boolean;
}

/**
 * An undirected similarity graph with every node's neighbours sorted by similarity, best first
 * (ties by smaller id), self excluded. `G_t` is the prefix of each list with `sims >= t`.
 */
export interface CoverageGraph {
  /** Number of nodes. */
  readonly n: number;
  /** CSR offsets, `n + 1` of them. */
  readonly offsets: Uint32Array;
  /** Neighbour ids. */
  readonly ids: Uint32Array;
  /** Neighbour similarities, non-increasing within each node's list. */
  readonly sims: Float32Array;
}

/** The greedy's picks on `G_t` and how many nodes they cover. */
export interface CoverResult {
  /** Picks, in greedy order. */
  picks: Uint32Array;
  /** Number of nodes covered by the picks' closed neighbourhoods. */
  covered: number;
}

function checkMatrix(vectors: Matrix): void {
  if (
    vectors === null ||
    typeof vectors !== 'object' ||
    !(vectors.data instanceof Float32Array) ||
    !Number.isInteger(vectors.dim) ||
    vectors.dim <= 0 ||
    !Number.isInteger(vectors.rows) ||
    vectors.rows <= 0 ||
    vectors.data.length !== vectors.rows * vectors.dim
  ) {
    throw new InvalidArgumentError(
      'vectors',
      'must be a non-empty Matrix (see matrix(data, dim)) whose data holds rows * dim values',
    );
  }
}

function finiteIn(name: string, v: number, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new InvalidArgumentError(name, `must be a number in [${lo}, ${hi}], got ${v}`);
  }
  return v;
}

/**
 * Build the undirected coverage graph of `vectors` at threshold `tMin`: one exact kNN pass in
 * Rust (`knnGraph`), then each directed edge is mirrored, duplicates merged (keeping the higher
 * similarity, so float rounding cannot make the graph asymmetric) and each list sorted best
 * first.
 */
export async function buildCoverageGraph(
  vectors: Matrix,
  tMin: number,
  degreeCap?: number,
): Promise<CoverageGraph> {
  checkMatrix(vectors);
  const n = vectors.rows;
  const offsets = new Uint32Array(n + 1);
  if (n === 1) return { n, offsets, ids: new Uint32Array(0), sims: new Float32Array(0) };
  const k = Math.min(degreeCap ?? n - 1, n - 1);
  // The kernel keeps sims strictly above its threshold; ACS wants `>= t`.
  const directed = await knnGraph(vectors, { k, threshold: tMin - 2 * ONE_EPS, symmetric: false });
  const dOff = directed.offsets;
  const dIds = directed.ids;
  const dSims = directed.sims;
  const m = dIds.length;
  // Mirror every edge: node i gets (j, s) and node j gets (i, s).
  const count = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    count[i + 1] += dOff[i + 1] - dOff[i];
    for (let e = dOff[i]; e < dOff[i + 1]; e++) count[dIds[e] + 1]++;
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const fill = count.slice(0, n);
  const bIds = new Uint32Array(2 * m);
  const bSims = new Float32Array(2 * m);
  for (let i = 0; i < n; i++) {
    for (let e = dOff[i]; e < dOff[i + 1]; e++) {
      const j = dIds[e];
      let s = dSims[e];
      if (s >= 1 - ONE_EPS) s = 1;
      bIds[fill[i]] = j;
      bSims[fill[i]++] = s;
      bIds[fill[j]] = i;
      bSims[fill[j]++] = s;
    }
  }
  // Per node: merge duplicate neighbours (keep the max), then sort best first (ties: smaller
  // id). The sort runs on packed float64 keys with the native typed-array sort: the float32
  // similarity's bits made monotone (32 bits), inverted for best first, then the id (21 bits).
  const ids = new Uint32Array(2 * m);
  const sims = new Float32Array(2 * m);
  const best = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
  const packed = n <= ID_LIMIT;
  let maxDeg = 0;
  for (let i = 0; i < n; i++) maxDeg = Math.max(maxDeg, count[i + 1] - count[i]);
  const keys = new Float64Array(packed ? maxDeg : 0);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  let out = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = out;
    const a = count[i];
    const b = count[i + 1];
    const order: number[] = [];
    for (let e = a; e < b; e++) {
      const j = bIds[e];
      if (best[j] === Number.NEGATIVE_INFINITY) order.push(j);
      if (bSims[e] > best[j]) best[j] = bSims[e];
    }
    if (packed) {
      for (let q = 0; q < order.length; q++) {
        const j = order[q];
        f32[0] = best[j];
        const bits = u32[0];
        const mono = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
        keys[q] = (0xffffffff - mono) * ID_LIMIT + j;
      }
      const view = keys.subarray(0, order.length);
      view.sort();
      for (let q = 0; q < view.length; q++) {
        const j = view[q] % ID_LIMIT;
        ids[out] = j;
        sims[out++] = best[j];
        best[j] = Number.NEGATIVE_INFINITY;
      }
    } else {
      order.sort((x, y) => best[y] - best[x] || x - y);
      for (const j of order) {
        ids[out] = j;
        sims[out++] = best[j];
        best[j] = Number.NEGATIVE_INFINITY;
      }
    }
  }
  offsets[n] = out;
  return { n, offsets, ids: ids.slice(0, out), sims: sims.slice(0, out) };
}

/** For each node, how many of its neighbours have similarity `>= t` (a prefix length). */
export function prefixDegrees(graph: CoverageGraph, t: number): Uint32Array {
  const { n, offsets, sims } = graph;
  const deg = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = offsets[i];
    let hi = offsets[i + 1];
    // First position whose sim < t (sims are non-increasing).
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sims[mid] >= t) lo = mid + 1;
      else hi = mid;
    }
    deg[i] = lo - offsets[i];
  }
  return deg;
}

/**
 * Lazy greedy max-coverage on `G_t`: up to `k` times, pick the uncovered node whose closed
 * neighbourhood covers the most uncovered nodes (ties: smallest index); stop early when all are
 * covered. Gains only shrink as nodes get covered, so stale gains in a max-heap are upper bounds
 * and a node whose refreshed gain still tops the heap is the exact greedy choice.
 */
export function greedyCover(graph: CoverageGraph, t: number, k: number): CoverResult {
  const { n, offsets, ids } = graph;
  const deg = prefixDegrees(graph, t);
  const covered = new Uint8Array(n);
  let nCovered = 0;
  // Binary max-heap on (gain desc, id asc) over parallel arrays.
  const hGain = new Uint32Array(n);
  const hId = new Uint32Array(n);
  let size = n;
  for (let i = 0; i < n; i++) {
    hGain[i] = deg[i] + 1;
    hId[i] = i;
  }
  const above = (a: number, b: number): boolean =>
    hGain[a] > hGain[b] || (hGain[a] === hGain[b] && hId[a] < hId[b]);
  const swap = (a: number, b: number): void => {
    const g = hGain[a];
    hGain[a] = hGain[b];
    hGain[b] = g;
    const v = hId[a];
    hId[a] = hId[b];
    hId[b] = v;
  };
  const siftDown = (p: number): void => {
    for (;;) {
      const l = 2 * p + 1;
      if (l >= size) return;
      let c = l;
      if (l + 1 < size && above(l + 1, l)) c = l + 1;
      if (!above(c, p)) return;
      swap(c, p);
      p = c;
    }
  };
  for (let p = (size >>> 1) - 1; p >= 0; p--) siftDown(p);

  const picks: number[] = [];
  while (picks.length < k && nCovered < n && size > 0) {
    const v = hId[0];
    const stale = hGain[0];
    if (covered[v]) {
      size--;
      hGain[0] = hGain[size];
      hId[0] = hId[size];
      siftDown(0);
      continue;
    }
    let gain = 1; // v itself is uncovered
    const a = offsets[v];
    const b = a + deg[v];
    for (let e = a; e < b; e++) if (!covered[ids[e]]) gain++;
    if (gain === stale) {
      picks.push(v);
      covered[v] = 1;
      nCovered++;
      for (let e = a; e < b; e++) {
        const u = ids[e];
        if (!covered[u]) {
          covered[u] = 1;
          nCovered++;
        }
      }
      size--;
      hGain[0] = hGain[size];
      hId[0] = hId[size];
      siftDown(0);
    } else {
      hGain[0] = gain;
      siftDown(0);
    }
  }
  return { picks: Uint32Array.from(picks), covered: nCovered };
}

/**
 * Adaptive Coverage Sampling: choose `k` diverse seeds from `vectors` (e.g. the embedded
 * LLM-written positives) that together cover at least a `coverage` portion of them.
 *
 * Binary search over `t` in `[tMin, tMax]` for the highest threshold at which the greedy's `k`
 * picks still cover `coverage · n` rows; if `tMax` already suffices (always so when
 * `coverage <= k/n` and `tMax = 1`), `t = tMax`. If even `tMin` does not, the `tMin` picks are
 * returned with `reachedCoverage: false`. Deterministic: no randomness, ties go to the smaller
 * index.
 *
 * @param vectors the candidate rows (cosine similarity is used, so any scale is fine)
 * @param k the number of seeds wanted (a positive integer; `k >= n` is allowed)
 * @throws InvalidArgumentError naming `vectors`, `k`, `coverage`, `tMin`, `tMax`, `degreeCap` or
 *   `tolerance` when one is malformed
 */
export async function selectAcsSeeds(
  vectors: Matrix,
  k: number,
  options: AcsOptions = {},
): Promise<AcsResult> {
  checkMatrix(vectors);
  if (!Number.isInteger(k) || k <= 0) {
    throw new InvalidArgumentError('k', `must be a positive integer, got ${k}`);
  }
  const c = options.coverage ?? 0.5;
  if (typeof c !== 'number' || !Number.isFinite(c) || c <= 0 || c > 1) {
    throw new InvalidArgumentError('coverage', `must be a number in (0, 1], got ${c}`);
  }
  const tMin = finiteIn('tMin', options.tMin ?? 0.707, -1, 1);
  const tMax = finiteIn('tMax', options.tMax ?? 1, -1, 1);
  if (tMin > tMax) {
    throw new InvalidArgumentError('tMin', `must not exceed tMax (${tMax}), got ${tMin}`);
  }
  const cap = options.degreeCap;
  if (cap !== undefined && (!Number.isInteger(cap) || cap <= 0)) {
    throw new InvalidArgumentError('degreeCap', `must be a positive integer, got ${cap}`);
  }
  const tol = options.tolerance ?? 1e-4;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol <= 0) {
    throw new InvalidArgumentError('tolerance', `must be a positive number, got ${tol}`);
  }

  const n = vectors.rows;
  const graph = await buildCoverageGraph(vectors, tMin, cap);
  // Integer target, with a little slack for c · n computed in floating point.
  const need = Math.ceil(c * n - 1e-9);
  const result = (t: number, r: CoverResult): AcsResult => ({
    indices: r.picks,
    threshold: t,
    coverage: r.covered / n,
    reachedCoverage: r.covered >= need,
  });

  const atMax = greedyCover(graph, tMax, k);
  if (atMax.covered >= need) return result(tMax, atMax);
  let lo = tMin;
  let best = greedyCover(graph, tMin, k);
  if (best.covered < need) return result(tMin, best);
  let hi = tMax;
  while (hi - lo > tol) {
    const mid = (lo + hi) / 2;
    const r = greedyCover(graph, mid, k);
    if (r.covered >= need) {
      lo = mid;
      best = r;
    } else {
      hi = mid;
    }
  }
  return result(lo, best);
}
