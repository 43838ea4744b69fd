/**
 * Baselines of §6: `random` (an actual seeded draw; the analytic expectation is in every metrics
 * row) and `nn` (nearest-neighbour search: rank the corpus by its highest cosine similarity to any
 * seed). Both query a fixed `K0` rows a round, down a ranking fixed before round 1.
 */
import { bipartiteTopK } from '../kernels';
import { UNLABELED, type MiningState, type Proposal, type Strategy } from './strategy';

/** The next `k` unlabeled rows down a fixed ranking. */
function nextInOrder(order: Uint32Array, labels: Int8Array, k: number): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < order.length && out.length < k; i++) {
    if (labels[order[i]] === UNLABELED) out.push(order[i]);
  }
  return Uint32Array.from(out);
}

/** A method that walks down a ranking computed once by `rank`. */
function rankingStrategy(
  name: string,
  k0: number,
  rank: (state: MiningState) => Promise<Uint32Array>,
): Strategy {
  let order: Uint32Array | undefined;
  return {
    name,
    async prepare(state: MiningState): Promise<void> {
      order = await rank(state);
    },
    propose(state: MiningState): Promise<Proposal> {
      if (!order) throw new Error(`${name}: prepare() was not called`);
      const rows = nextInOrder(order, state.labels, k0);
      return Promise.resolve({ rows, emptyReason: rows.length === 0 ? 'every row has been queried' : undefined });
    },
  };
}

/** Random querying: `K0` uniformly drawn unlabeled rows a round (seeded). */
export function createRandomStrategy(k0: number): Strategy {
  return rankingStrategy('random', k0, (state) => {
    const order = new Uint32Array(state.corpus.rows);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return Promise.resolve(state.random.shuffle(order));
  });
}

/** Nearest-neighbour search: corpus rows by their best similarity to any seed, `K0` a round. */
export function createNnStrategy(k0: number): Strategy {
  return rankingStrategy('nn', k0, async (state) => {
    const g = await bipartiteTopK(state.corpus, state.seeds, { k: 1 });
    const best = new Float32Array(state.corpus.rows).fill(-Infinity);
    for (let i = 0; i < state.corpus.rows; i++) {
      if (g.offsets[i + 1] > g.offsets[i]) best[i] = g.sims[g.offsets[i]];
    }
    const order = new Uint32Array(state.corpus.rows);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order.sort((a, b) => best[b] - best[a] || a - b);
  });
}
