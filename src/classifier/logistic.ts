/**
 * L2-regularised logistic regression on embeddings: the classifier of the LR baseline (§6.2) and
 * of the labeled set. Full-batch Nesterov-accelerated gradient descent in float64 with the step
 * `1/L` from a bound on the loss's curvature, so it converges without tuning and is deterministic.
 */
import { InvalidArgumentError } from '../errors';
import type { Matrix } from '../kernels';

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

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Train on rows `rows` of `x` with labels `y` (`true` = positive).
 * @throws InvalidArgumentError when lengths differ, a row is out of range, or a class is missing
 */
export function trainLogistic(
  x: Matrix,
  rows: ArrayLike<number>,
  y: ArrayLike<boolean>,
  options: LogisticOptions = {},
): LogisticModel {
  const n = rows.length;
  if (y.length !== n) throw new InvalidArgumentError('y', `has ${y.length} labels for ${n} rows`);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(rows[i]) || rows[i] < 0 || rows[i] >= x.rows) {
      throw new InvalidArgumentError('rows', `row ${rows[i]} is outside 0..${x.rows - 1}`);
    }
    if (y[i]) pos++;
  }
  if (pos === 0 || pos === n) {
    throw new InvalidArgumentError('y', 'needs at least one positive and one negative example');
  }
  const d = x.dim;
  const l2 = options.l2 ?? 1 / n;
  const iterations = options.iterations ?? 200;
  const balanced = options.balanced ?? true;
  const wPos = balanced ? n / (2 * pos) : 1;
  const wNeg = balanced ? n / (2 * (n - pos)) : 1;
  // Curvature bound: ‖H‖ ≤ ¼ · mean(wᵢ · (‖xᵢ‖² + 1)) + λ.
  let curv = 0;
  for (let i = 0; i < n; i++) {
    let s = 1;
    const o = rows[i] * d;
    for (let j = 0; j < d; j++) s += x.data[o + j] * x.data[o + j];
    curv += (y[i] ? wPos : wNeg) * s;
  }
  const step = 1 / (0.25 * (curv / n) + l2);

  const w = new Float64Array(d + 1); // last entry: bias
  if (options.init) {
    w.set(options.init.weights);
    w[d] = options.init.bias;
  }
  let prev = Float64Array.from(w);
  const v = Float64Array.from(w);
  const grad = new Float64Array(d + 1);
  for (let it = 1; it <= iterations; it++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const o = rows[i] * d;
      let z = v[d];
      for (let j = 0; j < d; j++) z += v[j] * x.data[o + j];
      const g = ((y[i] ? wPos : wNeg) * (sigmoid(z) - (y[i] ? 1 : 0))) / n;
      for (let j = 0; j < d; j++) grad[j] += g * x.data[o + j];
      grad[d] += g;
    }
    for (let j = 0; j < d; j++) grad[j] += l2 * v[j];
    const next = new Float64Array(d + 1);
    for (let j = 0; j <= d; j++) next[j] = v[j] - step * grad[j];
    const mom = (it - 1) / (it + 2);
    for (let j = 0; j <= d; j++) v[j] = next[j] + mom * (next[j] - prev[j]);
    prev = next;
  }
  return { weights: prev.subarray(0, d), bias: prev[d] };
}

/** `P(positive)` of rows `rows` of `x` (all rows when omitted). */
export function scoreLogistic(model: LogisticModel, x: Matrix, rows?: ArrayLike<number>): Float32Array {
  const d = x.dim;
  if (model.weights.length !== d) {
    throw new InvalidArgumentError('x', `dimension ${d} differs from the model's ${model.weights.length}`);
  }
  const m = rows ? rows.length : x.rows;
  const out = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const o = (rows ? rows[i] : i) * d;
    let z = model.bias;
    for (let j = 0; j < d; j++) z += model.weights[j] * x.data[o + j];
    out[i] = sigmoid(z);
  }
  return out;
}
