/**
 * The rare-event classifier trained on a mining run's labeled set: class-weighted logistic
 * regression on the embeddings (Rust core), evaluated on a stratified held-out split, with Platt-
 * calibrated probabilities, saved as portable JSON (weights + the embedder that made the inputs).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { resolveEmbedder } from '../embed/index';
import type { Embedder } from '../embed/embedder';
import { InvalidArgumentError, SynapseError } from '../errors';
import { matrix, type Matrix } from '../kernels';
import { writeFileAtomic } from '../util/atomic';
import { Random } from '../util/random';
import { trainLogistic } from './logistic';

/** Held-out quality of a classifier. */
export interface ClassifierMetrics {
  /** Area under the precision-recall curve (average precision) on the held-out rows. */
  prAuc: number;
  /** Precision and recall on the held-out rows at fixed probability thresholds. */
  thresholds: { threshold: number; precision: number; recall: number }[];
  heldOut: { rows: number; positives: number };
  train: { rows: number; positives: number };
}

/** The saved model (model.json). */
export interface ClassifierFile {
  format: 'synapse-g-classifier';
  version: 1;
  /** Embedder spec that turns texts into the model's inputs (e.g. `default`, `hf:/path`). */
  embedder: string;
  dim: number;
  weights: number[];
  bias: number;
  /** Platt scaling of the raw logit `z`: `P = σ(a·z + b)`. */
  calibration: { a: number; b: number };
  metrics: ClassifierMetrics;
  created: string;
}

/** Average precision of `scores` against `labels` (ties broken pessimistically). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || Number(labels[a]) - Number(labels[b]));
  let total = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) total++;
  if (total === 0) return Number.NaN;
  let hits = 0;
  let ap = 0;
  idx.forEach((i, rank) => {
    if (labels[i]) {
      hits++;
      ap += hits / (rank + 1);
    }
  });
  return ap / total;
}

/**
 * Raw logits `w·x + b` in float64 (probabilities in float32 saturate to 0 or 1 for confident
 * rows, which would tie them and spoil both calibration and ranking).
 */
function logits(weights: ArrayLike<number>, bias: number, x: Matrix, rows?: readonly number[]): Float64Array {
  const d = x.dim;
  const m = rows ? rows.length : x.rows;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const o = (rows ? rows[i] : i) * d;
    let z = bias;
    for (let j = 0; j < d; j++) z += weights[j] * x.data[o + j];
    out[i] = z;
  }
  return out;
}

/**
 * Fit Platt scaling `σ(a·z + b)` to (logit, label) pairs: Newton's method with step halving
 * (the loss never increases) on Platt's smoothed targets, which keep `a` finite on separable data.
 */
export function fitPlatt(z: ArrayLike<number>, y: ArrayLike<boolean>): { a: number; b: number } {
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) pos++;
  const neg = y.length - pos;
  const tPos = (pos + 1) / (pos + 2);
  const tNeg = 1 / (neg + 2);
  const loss = (a: number, b: number): number => {
    let l = 0;
    for (let i = 0; i < z.length; i++) {
      const f = a * z[i] + b;
      const t = y[i] ? tPos : tNeg;
      // -[t log p + (1 - t) log(1 - p)], stably
      l += Math.max(f, 0) - f * t + Math.log1p(Math.exp(-Math.abs(f)));
    }
    return l;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let it = 0; it < 100; it++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 1e-12;
    let h01 = 0;
    let h11 = 1e-12;
    for (let i = 0; i < z.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * z[i] + b)));
      const t = y[i] ? tPos : tNeg;
      const w = p * (1 - p);
      g0 += (p - t) * z[i];
      g1 += p - t;
      h00 += w * z[i] * z[i];
      h01 += w * z[i];
      h11 += w;
    }
    const det = h00 * h11 - h01 * h01;
    let da = det > 1e-18 ? (h11 * g0 - h01 * g1) / det : g0;
    let db = det > 1e-18 ? (h00 * g1 - h01 * g0) / det : g1;
    let step = 1;
    let next = loss(a - da, b - db);
    while (!(next <= current) && step > 1e-10) {
      step /= 2;
      da /= 2;
      db /= 2;
      next = loss(a - da, b - db);
    }
    if (!(next <= current)) break;
    a -= da;
    b -= db;
    const gain = current - next;
    current = next;
    if (gain < 1e-10 * Math.max(1, current)) break;
  }
  return { a, b };
}

/** Options of {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /** Share of the evaluable rows held out, stratified. Default 0.2. */
  heldOut?: number;
  /**
   * Rows that may be held out (e.g. oracle-labeled real rows, not synthetic seeds). Default all.
   */
  evaluable?: ArrayLike<boolean>;
  seed?: number;
  embedder: string;
}

/** Train, calibrate and evaluate a classifier on `vectors` with `labels`. */
export async function trainClassifier(vectors: Matrix, labels: readonly boolean[], options: TrainClassifierOptions): Promise<ClassifierFile> {
  if (labels.length !== vectors.rows) throw new InvalidArgumentError('labels', `has ${labels.length} entries for ${vectors.rows} rows`);
  const share = options.heldOut ?? 0.2;
  if (!(share > 0 && share < 1)) throw new InvalidArgumentError('heldOut', `must be in (0, 1), got ${share}`);
  const rnd = new Random(options.seed ?? 0);
  const held = new Uint8Array(vectors.rows);
  for (const cls of [true, false]) {
    const pool = Uint32Array.from(labels.flatMap((l, i) => (l === cls && (options.evaluable?.[i] ?? true) ? [i] : [])));
    const k = Math.round(pool.length * share);
    for (const i of rnd.sample(pool, k)) held[i] = 1;
  }
  const trainRows = labels.flatMap((_, i) => (held[i] ? [] : [i]));
  const heldRows = labels.flatMap((_, i) => (held[i] ? [i] : []));
  const count = (rows: number[]) => ({ rows: rows.length, positives: rows.filter((i) => labels[i]).length });
  const tr = count(trainRows);
  const ho = count(heldRows);
  if (tr.positives === 0 || tr.positives === tr.rows) throw new InvalidArgumentError('labels', 'the training split needs positives and negatives');
  if (ho.positives === 0 || ho.positives === ho.rows) {
    throw new InvalidArgumentError('labels', `too few labeled rows to hold out both classes (${ho.positives} positives of ${ho.rows} held out); label more rows`);
  }
  const model = await trainLogistic(vectors, trainRows, trainRows.map((i) => labels[i]), { iterations: 500 });
  const z = Array.from(logits(model.weights, model.bias, vectors, heldRows));
  const y = heldRows.map((i) => labels[i]);
  const calibration = fitPlatt(z, y);
  const p = z.map((v) => 1 / (1 + Math.exp(-(calibration.a * v + calibration.b))));
  const thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((threshold) => {
    let tp = 0;
    let fp = 0;
    p.forEach((v, i) => {
      if (v >= threshold) {
        if (y[i]) tp++;
        else fp++;
      }
    });
    return { threshold, precision: tp + fp > 0 ? tp / (tp + fp) : Number.NaN, recall: tp / ho.positives };
  });
  return {
    format: 'synapse-g-classifier',
    version: 1,
    embedder: options.embedder,
    dim: vectors.dim,
    weights: Array.from(model.weights),
    bias: model.bias,
    calibration,
    metrics: { prAuc: averagePrecision(p, y), thresholds, heldOut: ho, train: tr },
    created: new Date().toISOString(),
  };
}

/** Raw logits `w·x + b` of every row of `x` under a trained model (ranking is all PR-AUC needs). */
export function classifierLogits(model: ClassifierFile, x: Matrix): Float64Array {
  if (x.dim !== model.dim) throw new InvalidArgumentError('x', `dimension ${x.dim} differs from the model's ${model.dim}`);
  return logits(model.weights, model.bias, x);
}

/** Write `model.json` into `dir` (atomically). */
export async function saveClassifier(dir: string, model: ClassifierFile): Promise<string> {
  const file = path.join(dir, 'model.json');
  await writeFileAtomic(file, `${JSON.stringify(model, null, 1)}\n`);
  return file;
}

/** A loaded classifier. */
export interface RareEventClassifier {
  readonly file: ClassifierFile;
  /** Calibrated `P(positive)` of embedded rows. */
  predictVectors(vectors: Matrix): Promise<Float32Array>;
  /** Calibrated `P(positive)` of texts (embedded with the model's embedder). */
  predict(texts: readonly string[], options?: { onProgress?: (done: number, total: number) => void }): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Load `dir/model.json`; the embedder is created on the first `predict`. */
export async function loadClassifier(dir: string, options: { embedder?: string } = {}): Promise<RareEventClassifier> {
  let f: ClassifierFile;
  try {
    f = JSON.parse(await fsp.readFile(path.join(dir, 'model.json'), 'utf8')) as ClassifierFile;
  } catch (e) {
    throw new InvalidArgumentError('--model', `cannot read ${path.join(dir, 'model.json')}: ${(e as Error).message}`);
  }
  if (f.format !== 'synapse-g-classifier' || f.version !== 1 || f.weights?.length !== f.dim) {
    throw new SynapseError(`${dir}/model.json is not a synapse-g classifier`, 'BAD_MODEL');
  }
  const weights = Float64Array.from(f.weights);
  let embedder: Embedder | undefined;
  const predictVectors = (v: Matrix): Promise<Float32Array> => {
    if (v.dim !== f.dim) return Promise.reject(new InvalidArgumentError('vectors', `dimension ${v.dim} differs from the model's ${f.dim}`));
    const z = logits(weights, f.bias, v);
    return Promise.resolve(Float32Array.from(z, (x) => 1 / (1 + Math.exp(-(f.calibration.a * x + f.calibration.b)))));
  };
  return {
    file: f,
    predictVectors,
    async predict(texts, opts = {}) {
      embedder ??= await resolveEmbedder(options.embedder ?? f.embedder, { argument: '--embedder' });
      const v = await embedder.embed(texts, { onProgress: (p) => opts.onProgress?.(p.done, p.total) });
      return predictVectors(matrix(v, embedder.dim, 'texts'));
    },
    async close() {
      await embedder?.close?.();
    },
  };
}
