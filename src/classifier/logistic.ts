/**
 * L2-regularised logistic regression on embeddings: the classifier of the LR baseline (§6.2) and
 * of the labeled set. Trained in the Rust core (full-batch Nesterov gradient descent with the step
 * `1/L` from a curvature bound: no tuning, deterministic), off the main thread.
 */
import { InvalidArgumentError, fromNative } from '../errors';
import type { Matrix } from '../kernels';
import native from '../native';

/** A trained model: `P(positive | x) = σ(w·x + b)`. */
export interface LogisticModel {
  weights: Float64Array;
  bias: number;
}

/** Options of {@link trainLogistic}. */
export interface LogisticOptions {
  /** L2 penalty `λ` on the weights (mean loss + `λ/2 ‖w‖²`). Default `1 / n` (sklearn's C = 1). */
  l2?: number;
  /** Gradient steps. Default 200. */
  iterations?: number;
  /** Weight classes inversely to their frequency (each class totals half the loss). Default true. */
  balanced?: boolean;
  /** Start from this model (warm start across rounds). */
  init?: LogisticModel;
}

function toRows(rows: ArrayLike<number>, n: number): Uint32Array {
  if (rows instanceof Uint32Array) return rows;
  const out = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) {
      throw new InvalidArgumentError('rows', `row ${r} is outside 0..${n - 1}`);
    }
    out[i] = r;
  }
  return out;
}

/**
 * Train on rows `rows` of `x` with labels `y` (`true` = positive).
 * @throws InvalidArgumentError when lengths differ, a row is out of range, or a class is missing
 */
export async function trainLogistic(
  x: Matrix,
  rows: ArrayLike<number>,
  y: ArrayLike<boolean>,
  options: LogisticOptions = {},
): Promise<LogisticModel> {
  const r = toRows(rows, x.rows);
  const labels = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) labels[i] = y[i] ? 1 : 0;
  try {
    return await native.trainLogisticNative(x.data, x.dim, r, labels, {
      l2: options.l2 ?? 1 / Math.max(1, r.length),
      iterations: options.iterations ?? 200,
      balanced: options.balanced ?? true,
      initWeights: options.init?.weights,
      initBias: options.init?.bias,
    });
  } catch (e) {
    throw fromNative(e);
  }
}

/** `P(positive)` of rows `rows` of `x` (all rows when omitted). */
export async function scoreLogistic(model: LogisticModel, x: Matrix, rows?: ArrayLike<number>): Promise<Float32Array> {
  try {
    return await native.scoreLogisticNative(model.weights, model.bias, x.data, x.dim, rows === undefined ? undefined : toRows(rows, x.rows));
  } catch (e) {
    throw fromNative(e);
  }
}
