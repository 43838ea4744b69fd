/**
 * The LR baseline of §6.2: active learning with logistic regression on the embeddings, under an
 * inference budget. The model starts from the seeds as positives and as many random corpus rows
 * taken as negatives; each round it scores a random subset of `B` unlabeled rows, the top
 * `K = K0 / p_prev` are queried, and it is retrained on the seeds, those pseudo-negatives and
 * every oracle label so far.
 */
import { scoreLogistic, trainLogistic, type LogisticModel } from '../classifier/logistic';
import { stackRows, adaptiveK, NEGATIVE, POSITIVE, UNLABELED, type MiningState, type Proposal, type Strategy } from './strategy';

/** LR baseline parameters. */
export interface LrParams {
  k0: number;
  /** Unlabeled rows scored per round, `B` (`undefined` = all). */
  budget?: number;
}

/** The LR baseline. */
export function createLrStrategy(params: LrParams): Strategy {
  let pseudoNegatives: Uint32Array = new Uint32Array(0);
  let model: LogisticModel | undefined;
  return {
    name: 'lr',
    prepare(state: MiningState): Promise<void> {
      const all = new Uint32Array(state.corpus.rows);
      for (let i = 0; i < all.length; i++) all[i] = i;
      pseudoNegatives = state.random.sample(all, state.seeds.rows);
      return Promise.resolve();
    },
    async propose(state: MiningState): Promise<Proposal> {
      // Training matrix: seeds first, then corpus rows (pseudo-negatives and oracle labels).
      const train: number[] = [];
      const y: boolean[] = [];
      const labeledRows: number[] = [];
      for (const r of pseudoNegatives) {
        if (state.labels[r] === UNLABELED) {
          labeledRows.push(r);
          y.push(false);
        }
      }
      for (let r = 0; r < state.labels.length; r++) {
        if (state.labels[r] === POSITIVE || state.labels[r] === NEGATIVE) {
          labeledRows.push(r);
          y.push(state.labels[r] === POSITIVE);
        }
      }
      const x = stackRows(state.corpus, labeledRows, state.seeds);
      for (let i = 0; i < x.rows; i++) train.push(i);
      const labels = [...Array.from({ length: state.seeds.rows }, () => true), ...y];
      model = await trainLogistic(x, train, labels, { init: model, iterations: model ? 100 : 300 });

      const unlabeled: number[] = [];
      for (let r = 0; r < state.labels.length; r++) if (state.labels[r] === UNLABELED) unlabeled.push(r);
      const pool = Uint32Array.from(unlabeled);
      const scored =
        params.budget === undefined || params.budget >= pool.length ? pool : state.random.sample(pool, params.budget);
      const p = await scoreLogistic(model, state.corpus, scored);
      const order = Array.from(scored.keys()).sort((a, b) => p[b] - p[a] || scored[a] - scored[b]);
      const k = adaptiveK(params.k0, state.previousPrecision);
      const rows = Uint32Array.from(order.slice(0, k).map((i) => scored[i]));
      return { rows, emptyReason: rows.length === 0 ? 'every row has been queried' : undefined };
    },
  };
}
