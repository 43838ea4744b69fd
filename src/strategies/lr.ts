/**
 * The LR baseline of §6.2: active learning with logistic regression on the embeddings, under an
 * inference budget. The model starts from the seeds as positives and as many random corpus rows
 * taken as negatives; each round it scores a random subset of `B` unlabeled rows, the top
 * `K = K0 / p_prev` are queried, and it is retrained on the seeds, those pseudo-negatives and
 * every oracle label so far.
 */
import { topCandidates } from '../kernels';
import { createSeedClassifier, scatter, unlabeledRows } from './classifier';
import { adaptiveK, labeledMask, type MiningState, type Proposal, type Strategy } from './strategy';

/** LR baseline parameters. */
export interface LrParams {
  k0: number;
  /** Unlabeled rows scored per round, `B` (`undefined` = all). */
  budget?: number;
}

/** The LR baseline. */
export function createLrStrategy(params: LrParams): Strategy {
  const classifier = createSeedClassifier();
  return {
    name: 'lr',
    prepare(state: MiningState): Promise<void> {
      classifier.prepare(state);
      return Promise.resolve();
    },
    async propose(state: MiningState): Promise<Proposal> {
      await classifier.train(state);
      const pool = unlabeledRows(state.labels);
      const scored = params.budget === undefined || params.budget >= pool.length ? pool : state.random.sample(pool, params.budget);
      const scores = scatter(scored, await classifier.score(state, scored), state.corpus.rows);
      const k = Math.min(adaptiveK(params.k0, state.previousPrecision), scored.length);
      const rows = scored.length === 0 ? scored : topCandidates(scores, k, labeledMask(state.labels));
      return { rows, emptyReason: rows.length === 0 ? 'every row has been queried' : undefined };
    },
  };
}
