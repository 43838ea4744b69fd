/**
 * The bipartite graph step of Algorithm 2, and the one-shot `bipartite` method of §6.1 ("random
 * or ACS seeds + bipartite graph"): the union of every seed's top-`d_max` corpus neighbours with
 * cosine similarity above `τ`, queried once.
 */
import type { AnnBackend, GraphIndex } from '../ann';
import { bipartiteTopK, type Matrix } from '../kernels';
import { labeledMask, type MiningState, type Proposal, type Strategy } from './strategy';

/** Graph parameters shared by the graph methods. */
export interface GraphParams {
  /** Similarity threshold `τ`: an edge needs cosine similarity strictly above it. */
  tau: number;
  /** Most neighbours kept per node, `d_max`. */
  dmax: number;
  /** How the corpus kNN graph is built (GBLE, auto): `exact` (default), `hnsw` or `ivf` (approximate). */
  index?: GraphIndex;
  /** The library of an approximate index: `usearch` or `faiss` (default: per index, see src/ann.ts). */
  annBackend?: AnnBackend;
}

/**
 * The unlabeled corpus rows joined to `queries` in the bipartite graph `G_B` (each query's top
 * `dmax` unlabeled rows above `tau`), ordered by their best similarity to any query, best first
 * (ties by row). This is `B_t` of Algorithm 2.
 */
export async function bipartiteCandidates(
  queries: Matrix,
  corpus: Matrix,
  labels: Int8Array,
  params: GraphParams,
): Promise<Uint32Array> {
  const g = await bipartiteTopK(queries, corpus, {
    k: params.dmax,
    threshold: params.tau,
    exclude: labeledMask(labels),
  });
  const best = new Map<number, number>();
  for (let e = 0; e < g.ids.length; e++) {
    const id = g.ids[e];
    const s = g.sims[e];
    const b = best.get(id);
    if (b === undefined || s > b) best.set(id, s);
  }
  const rows = Uint32Array.from(best.keys());
  rows.sort((a, b) => (best.get(b) as number) - (best.get(a) as number) || a - b);
  return rows;
}

/** The one-shot bipartite method: one round, the seeds' neighbours. */
export function createBipartiteStrategy(params: GraphParams): Strategy {
  return {
    name: 'bipartite',
    async propose(state: MiningState): Promise<Proposal> {
      const rows = await bipartiteCandidates(state.seeds, state.corpus, state.labels, params);
      return {
        rows,
        final: true,
        emptyReason: rows.length === 0 ? noNeighbourReason(params.tau) : undefined,
      };
    },
  };
}

/** The stop reason when no seed has a corpus neighbour above `τ`. */
export function noNeighbourReason(tau: number): string {
  return `no seed has a corpus neighbour with cosine similarity above tau = ${tau}; try a lower --tau`;
}
