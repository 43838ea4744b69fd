/**
 * Iterative Bipartite Graph (IBG), Algorithm 2 of the paper. Each round joins the known positives
 * `V_P` (the seeds, then every positive the oracle confirms) to the remaining unlabeled rows
 * `V_U` by a bipartite graph (edge if cosine > `τ`, each positive's top `d_max` neighbours kept),
 * and queries every row of `V_U` with an edge. New positives join `V_P`; queried rows leave
 * `V_U`. It stops by itself when a round finds no new positive (no new node, so the next graph
 * would only extend old neighbourhoods), or at the budget.
 */
import { bipartiteCandidates, noNeighbourReason, type GraphParams } from './bipartite';
import { stackRows, type MiningState, type Proposal, type Strategy } from './strategy';

/** IBG: Algorithm 2. */
export function createIbgStrategy(params: GraphParams): Strategy {
  return {
    name: 'ibg',
    async propose(state: MiningState): Promise<Proposal> {
      // V_P = D_S ∪ {confirmed positives}; the kernel skips labeled rows, so V_U = D_U \ queried.
      const vp = stackRows(state.corpus, state.positives, state.seeds);
      const rows = await bipartiteCandidates(vp, state.corpus, state.labels, params);
      return {
        rows,
        emptyReason:
          rows.length === 0
            ? state.round === 1
              ? noNeighbourReason(params.tau)
              : 'every row joined to a known positive has been queried'
            : undefined,
      };
    },
  };
}
