/**
 * Graph-Based Label Expansion (GBLE), Algorithm 3 of the paper. One similarity graph over the
 * corpus and the seeds (each node's top `d_max` neighbours with cosine > `τ`, made undirected);
 * every round, the known labels are propagated over it (`Y ← W·Y`, `W = D⁻¹A`, labeled rows reset
 * to their labels after each step) and the `K = K0 / p_prev` unlabeled rows with the highest score
 * are queried.
 *
 * Label encoding: seeds and confirmed positives `+1`, oracle negatives `negativeLabel` (default
 * `-1`; `0` makes negatives absorb without pushing scores down), unlabeled `0`. Only rows with a
 * positive score (reached from a positive within `iterations` steps, more than from negatives) are
 * proposed: a row the labels say nothing about is not a candidate.
 */
import { knnGraph, propagate, topCandidates, type CsrGraph } from '../kernels';
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
      // Nodes 0..N-1 are the corpus, N..N+S-1 the seeds.
      const joined = new Float32Array(state.corpus.data.length + state.seeds.data.length);
      joined.set(state.corpus.data, 0);
      joined.set(state.seeds.data, state.corpus.data.length);
      graph = await knnGraph(
        { data: joined, dim: state.corpus.dim, rows: state.corpus.rows + state.seeds.rows },
        { k: params.dmax, threshold: params.tau, symmetric: true },
      );
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
      const corpusScores = scores.subarray(0, n);
      const k = adaptiveK(params.k0, state.previousPrecision);
      const ranked = topCandidates(corpusScores, k, labeledMask(state.labels));
      let m = 0;
      while (m < ranked.length && corpusScores[ranked[m]] > 0) m++;
      return {
        rows: ranked.subarray(0, m),
        emptyReason:
          m === 0
            ? state.round === 1
              ? `no corpus row is within ${params.iterations} graph steps of a seed (tau = ${params.tau}, d_max = ${params.dmax}); try a lower --tau`
              : 'no unlabeled row has a positive score: the positives\' graph neighbourhoods are exhausted'
            : undefined,
      };
    },
  };
}
