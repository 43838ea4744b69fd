/**
 * The classifier the LR baseline, SEALS and `auto` share: logistic regression on the embeddings,
 * trained on the seeds (positives), as many random corpus rows taken as negatives (there are no
 * labeled negatives at the start; at a rare event's base rate almost all of them are negative),
 * and every oracle label so far. Warm-started from the previous round's model.
 */
import { scoreLogistic, trainLogistic, type LogisticModel } from '../classifier/logistic';
import { topCandidates } from '../kernels';
import { NEGATIVE, POSITIVE, UNLABELED, stackRows, type MiningState } from './strategy';

/** A per-run classifier: `prepare` once, then `train` each round and `score` rows. */
export interface SeedClassifier {
  prepare(state: MiningState): void;
  /** Retrain on the seeds, the pseudo-negatives still unlabeled, and every oracle label. */
  train(state: MiningState): Promise<void>;
  /** `P(positive)` of corpus rows `rows`. */
  score(state: MiningState, rows: Uint32Array): Promise<Float32Array>;
}

/** A fresh {@link SeedClassifier}. */
export function createSeedClassifier(): SeedClassifier {
  let pseudoNegatives: Uint32Array = new Uint32Array(0);
  let model: LogisticModel | undefined;
  return {
    prepare(state: MiningState): void {
      const all = new Uint32Array(state.corpus.rows);
      for (let i = 0; i < all.length; i++) all[i] = i;
      pseudoNegatives = state.random.sample(all, state.seeds.rows);
    },
    async train(state: MiningState): Promise<void> {
      const rows: number[] = [];
      const y: boolean[] = Array.from({ length: state.seeds.rows }, () => true);
      for (const r of pseudoNegatives) {
        if (state.labels[r] === UNLABELED) {
          rows.push(r);
          y.push(false);
        }
      }
      for (let r = 0; r < state.labels.length; r++) {
        if (state.labels[r] === POSITIVE || state.labels[r] === NEGATIVE) {
          rows.push(r);
          y.push(state.labels[r] === POSITIVE);
        }
      }
      // Training matrix: the seeds first, then the corpus rows.
      const x = stackRows(state.corpus, rows, state.seeds);
      const all = new Uint32Array(x.rows);
      for (let i = 0; i < all.length; i++) all[i] = i;
      model = await trainLogistic(x, all, y, { init: model, iterations: model ? 100 : 300 });
    },
    score(state: MiningState, rows: Uint32Array): Promise<Float32Array> {
      if (!model) throw new Error('classifier: train() was not called');
      return scoreLogistic(model, state.corpus, rows);
    },
  };
}

/** The unlabeled corpus rows, ascending. */
export function unlabeledRows(labels: Int8Array): Uint32Array {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === UNLABELED) n++;
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < labels.length; i++) if (labels[i] === UNLABELED) out[j++] = i;
  return out;
}

/** A corpus-length array holding `values[i]` at row `rows[i]` and `-Infinity` elsewhere. */
export function scatter(rows: Uint32Array, values: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n).fill(-Infinity);
  for (let i = 0; i < rows.length; i++) out[rows[i]] = values[i];
  return out;
}

/**
 * Each unlabeled row's rank percentile by `scores` (a corpus-length array): `1 - rank / m` among
 * the `m` rows not in `exclude`, best first (ties by row). Ranked natively (one top-m selection).
 */
export function percentiles(scores: Float32Array, exclude: Uint8Array, m: number): Float32Array {
  const order = topCandidates(scores, m, exclude);
  const out = new Float32Array(scores.length);
  for (let i = 0; i < order.length; i++) out[order[i]] = 1 - i / m;
  return out;
}
