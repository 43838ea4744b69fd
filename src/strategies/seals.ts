/**
 * SEALS (Coleman et al., "Similarity Search for Efficient Active Learning and Search of Rare
 * Concepts", AAAI 2022): active search where the classifier scores only a candidate pool, the
 * union of the `k` nearest corpus neighbours of every labeled row (seeds included), which grows
 * as labels arrive. Selection cost then scales with the labeled set, not the corpus. The
 * classifier is the same logistic regression as the LR baseline; rounds query `K0 / p_prev`.
 */
import { bipartiteTopK, topCandidates } from '../kernels';
import { createSeedClassifier, scatter } from './classifier';
import { adaptiveK, labeledMask, stackRows, UNLABELED, type MiningState, type Proposal, type Strategy } from './strategy';

/** SEALS parameters. */
export interface SealsParams {
  k0: number;
  /** Neighbours each labeled row adds to the pool. Default 100 (SEALS's k). */
  poolK?: number;
}

/** SEALS: logistic regression over a nearest-neighbour candidate pool. */
export function createSealsStrategy(params: SealsParams): Strategy {
  const classifier = createSeedClassifier();
  const k = params.poolK ?? 100;
  let inPool = new Uint8Array(0);
  let expanded = new Uint8Array(0); // corpus rows whose neighbours are already in the pool
  const addNeighbours = async (state: MiningState, queries: ReturnType<typeof stackRows>): Promise<void> => {
    if (queries.rows === 0) return;
    const g = await bipartiteTopK(queries, state.corpus, { k });
    for (const id of g.ids) inPool[id] = 1;
  };
  return {
    name: 'seals',
    async prepare(state: MiningState): Promise<void> {
      classifier.prepare(state);
      inPool = new Uint8Array(state.corpus.rows);
      expanded = new Uint8Array(state.corpus.rows);
      await addNeighbours(state, state.seeds);
    },
    notes: () => [`SEALS pool: the ${k} nearest corpus neighbours of every labeled row`],
    async propose(state: MiningState): Promise<Proposal> {
      const fresh: number[] = [];
      for (let r = 0; r < state.labels.length; r++) {
        if (state.labels[r] !== UNLABELED && !expanded[r]) {
          expanded[r] = 1;
          fresh.push(r);
        }
      }
      await addNeighbours(state, stackRows(state.corpus, fresh));
      await classifier.train(state);
      const pool: number[] = [];
      for (let r = 0; r < inPool.length; r++) if (inPool[r] && state.labels[r] === UNLABELED) pool.push(r);
      const rows = Uint32Array.from(pool);
      const scores = scatter(rows, await classifier.score(state, rows), state.corpus.rows);
      const k = Math.min(adaptiveK(params.k0, state.previousPrecision), rows.length);
      const out = rows.length === 0 ? rows : topCandidates(scores, k, labeledMask(state.labels));
      return { rows: out, emptyReason: out.length === 0 ? 'the candidate pool is exhausted' : undefined };
    },
  };
}
