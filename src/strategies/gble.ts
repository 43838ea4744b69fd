/**
 * Graph-Based Label Expansion (GBLE), Algorithm 3 of the paper. One similarity graph over the
 * corpus and the seeds (each node's top `d_max` neighbours with cosine > `τ`, made undirected);
 * every round, the known labels are propagated over it (`Y ← W·Y`, `W = D⁻¹A`, labeled rows reset
 * to their labels after each step) and the `K = K0 / p_prev` unlabeled rows with the highest score
 * are queried.
 *
 * Label encoding: seeds and confirmed positives `+1`, oracle negatives `negativeLabel` (default
 * `-1`; `0` makes negatives absorb without pushing scores down), unlabeled `0`. A round takes the
 * top `K` scores; it stops the run when no unlabeled row has a positive score left.
 */
import { buildKnnGraph } from '../ann';
import { bipartiteTopK, propagate, topCandidates, type CsrGraph, type Matrix } from '../kernels';
import type { GraphParams } from './bipartite';
import {
  adaptiveK,
  labeledMask,
  NEGATIVE,
  POSITIVE,
  type MiningState,
  type Proposal,
  type Strategy,
} from './strategy';

/** GBLE parameters. */
export interface GbleParams extends GraphParams {
  /** Target new positives per round, `K0`: round 1 queries `K0` rows, later rounds `K0 / p_prev`. */
  k0: number;
  /** Propagation steps per round, `T`. */
  iterations: number;
  /** Value oracle negatives are clamped to (`-1`, or `0`). */
  negativeLabel: number;
}

/** GBLE: Algorithm 3 with the adaptive round size. */
export function createGbleStrategy(params: GbleParams): Strategy {
  let graph: CsrGraph | undefined;
  let isolated = 0;
  let seedsWithoutEdge = 0;
  return {
    name: 'gble',
    async prepare(state: MiningState): Promise<void> {
      graph = await gbleGraph(state.corpus, state.seeds, params);
      const n = state.corpus.rows;
      for (let i = 0; i < n + state.seeds.rows; i++) {
        if (graph.offsets[i + 1] === graph.offsets[i]) {
          if (i < n) isolated++;
          else seedsWithoutEdge++;
        }
      }
    },
    notes(): string[] {
      if (!graph) return [];
      return [
        `GBLE graph: ${graph.ids.length} directed edges (symmetric), ${isolated} corpus rows and ${seedsWithoutEdge} seeds without an edge above tau = ${params.tau}`,
      ];
    },
    async propose(state: MiningState): Promise<Proposal> {
      if (!graph) throw new Error('gble: prepare() was not called');
      const corpusScores = await propagateScores(graph, state, params);
      return gbleProposal(corpusScores, state, params);
    },
  };
}

/**
 * A GBLE round from the propagated corpus scores: the top `K = K0 / p_prev` unlabeled rows.
 * Rows reached from a positive come first; when there are fewer than K of them the round is
 * filled with the best of the rest (their score still ranks them: unreached 0 above rows pushed
 * down by negatives). No positive score at all means the graph has nothing more to say: stop.
 */
export function gbleProposal(corpusScores: Float32Array, state: MiningState, params: Pick<GbleParams, 'k0' | 'iterations' | 'tau' | 'dmax'>): Proposal {
  const k = adaptiveK(params.k0, state.previousPrecision);
  const ranked = topCandidates(corpusScores, k, labeledMask(state.labels));
  const reached = ranked.length > 0 && corpusScores[ranked[0]] > 0;
  return {
    rows: reached ? ranked : new Uint32Array(0),
    emptyReason: reached
      ? undefined
      : state.round === 1
        ? `no corpus row is within ${params.iterations} graph steps of a seed (tau = ${params.tau}, d_max = ${params.dmax}); try a lower --tau`
        : "no unlabeled row has a positive score: the positives' graph neighbourhoods are exhausted",
  };
}

/** Symmetric corpus kNN graphs already built, by corpus array and `d_max/τ`. */
const corpusGraphs = new WeakMap<Float32Array, Map<string, Promise<CsrGraph>>>();

/**
 * The corpus's own symmetric kNN graph (each row's top `d_max` neighbours above `τ`, made
 * undirected). Built once per corpus array and parameters, then reused: mining the same corpus
 * for another event, with other seeds or another method, skips the costly corpus × corpus pass.
 */
export function corpusGraph(corpus: Matrix, params: GraphParams): Promise<CsrGraph> {
  let byParams = corpusGraphs.get(corpus.data);
  if (!byParams) {
    byParams = new Map();
    corpusGraphs.set(corpus.data, byParams);
  }
  const key = `${params.dmax}/${params.tau}/${params.index ?? 'exact'}/${params.annBackend ?? ''}`;
  let g = byParams.get(key);
  if (!g) {
    g = buildKnnGraph(corpus, { k: params.dmax, threshold: params.tau, symmetric: true, index: params.index, backend: params.annBackend });
    byParams.set(key, g);
    g.catch(() => byParams?.delete(key));
  }
  return g;
}

/**
 * GBLE's graph over the corpus (nodes `0..N-1`) and the seeds (`N..N+S-1`): the corpus kNN graph
 * plus each seed's top `d_max` corpus neighbours above `τ`, every edge in both directions. Rows
 * stay sorted by similarity (ties by id).
 */
export async function gbleGraph(corpus: Matrix, seeds: Matrix, params: GraphParams): Promise<CsrGraph> {
  const base = await corpusGraph(corpus, params);
  const sg = await bipartiteTopK(seeds, corpus, { k: params.dmax, threshold: params.tau });
  const n = corpus.rows;
  const total = n + seeds.rows;
  const extra = new Uint32Array(total); // seed edges gained by each node
  for (let e = 0; e < sg.ids.length; e++) extra[sg.ids[e]]++;
  for (let s = 0; s < seeds.rows; s++) extra[n + s] = sg.offsets[s + 1] - sg.offsets[s];
  const offsets = new Uint32Array(total + 1);
  for (let i = 0; i < total; i++) {
    const own = i < n ? base.offsets[i + 1] - base.offsets[i] : 0;
    offsets[i + 1] = offsets[i] + own + extra[i];
  }
  const ids = new Uint32Array(offsets[total]);
  const sims = new Float32Array(offsets[total]);
  const fill = new Uint32Array(total); // next free slot per row, relative to its offset
  for (let i = 0; i < n; i++) {
    const a = base.offsets[i];
    const len = base.offsets[i + 1] - a;
    ids.set(base.ids.subarray(a, a + len), offsets[i]);
    sims.set(base.sims.subarray(a, a + len), offsets[i]);
    fill[i] = len;
  }
  for (let s = 0; s < seeds.rows; s++) {
    for (let e = sg.offsets[s]; e < sg.offsets[s + 1]; e++) {
      const c = sg.ids[e];
      ids[offsets[n + s] + fill[n + s]] = c;
      sims[offsets[n + s] + fill[n + s]++] = sg.sims[e];
      ids[offsets[c] + fill[c]] = n + s;
      sims[offsets[c] + fill[c]++] = sg.sims[e];
    }
  }
  // Re-sort the corpus rows that gained seed edges.
  for (let i = 0; i < n; i++) {
    if (extra[i] === 0) continue;
    const a = offsets[i];
    const b = offsets[i + 1];
    const order = Array.from({ length: b - a }, (_, j) => a + j).sort((x, y) => sims[y] - sims[x] || ids[x] - ids[y]);
    const ri = order.map((j) => ids[j]);
    const rs = order.map((j) => sims[j]);
    ids.set(ri, a);
    sims.set(rs, a);
  }
  return { offsets, ids, sims };
}

/**
 * One round of Algorithm 3 on `graph` (from {@link gbleGraph}): clamp the seeds and confirmed
 * positives to 1 and oracle negatives to `negativeLabel`, propagate `iterations` steps, and
 * return the corpus rows' scores.
 */
export async function propagateScores(
  graph: CsrGraph,
  state: MiningState,
  params: Pick<GbleParams, 'iterations' | 'negativeLabel'>,
): Promise<Float32Array> {
  const n = state.corpus.rows;
  const total = n + state.seeds.rows;
  const y0 = new Float32Array(total);
  const clamp = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const l = state.labels[i];
    if (l === POSITIVE) {
      y0[i] = 1;
      clamp[i] = 1;
    } else if (l === NEGATIVE) {
      y0[i] = params.negativeLabel;
      clamp[i] = 1;
    }
  }
  y0.fill(1, n, total);
  clamp.fill(1, n, total);
  const scores = await propagate(graph, y0, clamp, { iterations: params.iterations });
  return scores.subarray(0, n);
}
