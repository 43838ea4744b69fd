/**
 * Typed wrappers over the Rust kernels: cosine top-k graphs (blocked GEMM fused with a bounded
 * per-row heap), GBLE label propagation and candidate selection.
 *
 * Matrices are row-major `Float32Array`s passed to Rust without copying. Heavy calls return
 * Promises and run off the JavaScript main thread, on all cores. Every misuse throws an
 * {@link InvalidArgumentError} naming the argument.
 */
import native from './native';
import type { CsrGraph } from './native';
import { fromNative, InvalidArgumentError } from './errors';

export type { CsrGraph };

/** A row-major `rows × dim` matrix of 32-bit floats. */
export interface Matrix {
  /** Row-major values, `rows * dim` of them. */
  readonly data: Float32Array;
  /** Number of columns (the embedding dimension). */
  readonly dim: number;
  /** Number of rows. */
  readonly rows: number;
}

/**
 * Wrap a `Float32Array` as a `rows × dim` matrix, checking the shape. `name` is used in errors.
 * Values are checked for NaN/Inf by the kernels, which report the row and column.
 */
export function matrix(data: Float32Array, dim: number, name = 'matrix'): Matrix {
  if (!(data instanceof Float32Array)) {
    throw new InvalidArgumentError(name, 'must be a Float32Array');
  }
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new InvalidArgumentError(`${name}.dim`, `must be a positive integer, got ${dim}`);
  }
  if (data.length === 0) throw new InvalidArgumentError(name, 'matrix is empty (0 rows)');
  if (data.length % dim !== 0) {
    throw new InvalidArgumentError(
      name,
      `length ${data.length} is not a multiple of dim ${dim}`,
    );
  }
  return { data, dim, rows: data.length / dim };
}

/** Rows to skip: a mask with one byte per row (non-zero = skip), or a list of row ids. */
export type RowSet = Uint8Array | Uint32Array | readonly number[];

/** Turn a {@link RowSet} into a byte mask of length `n`, checking ids. */
export function toMask(rows: RowSet, n: number, name: string): Uint8Array {
  if (rows instanceof Uint8Array) {
    if (rows.length !== n) {
      throw new InvalidArgumentError(name, `mask length ${rows.length} must equal ${n} rows`);
    }
    return rows;
  }
  const mask = new Uint8Array(n);
  for (let i = 0; i < rows.length; i++) {
    const id = rows[i];
    if (!Number.isInteger(id) || id < 0 || id >= n) {
      throw new InvalidArgumentError(name, `id ${id} at position ${i} is out of range [0, ${n})`);
    }
    mask[id] = 1;
  }
  return mask;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) {
    throw new InvalidArgumentError(name, `must be a positive integer, got ${v}`);
  }
  return v;
}

function optionalThreshold(t: number | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    throw new InvalidArgumentError('threshold', `must be a finite number, got ${t}`);
  }
  return t;
}

async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw fromNative(e);
  }
}

/** L2-normalise every row. Zero rows stay zero and are reported, never divided by zero. */
export async function normalize(
  vectors: Matrix,
): Promise<{ vectors: Matrix; zeroRows: Uint32Array }> {
  const r = await call(() => native.normalize(vectors.data, vectors.dim));
  return { vectors: matrix(r.vectors, vectors.dim, 'vectors'), zeroRows: r.zeroRows };
}

/** Options of {@link bipartiteTopK}. */
export interface BipartiteTopKOptions {
  /** Neighbours kept per query row (the paper's `d_max`). */
  k: number;
  /** Keep only cosine similarities strictly above this (the paper's `τ`). Default: keep all. */
  threshold?: number;
  /** Corpus rows to skip, e.g. rows already labeled. */
  exclude?: RowSet;
}

/**
 * For each query row (e.g. a seed), the at most `k` corpus rows whose cosine similarity is
 * strictly above `threshold`, best first (ties go to the smaller id), as a CSR graph with one
 * row per query. This is Algorithm 2's graph step, and nearest-neighbour search.
 */
export async function bipartiteTopK(
  queries: Matrix,
  corpus: Matrix,
  options: BipartiteTopKOptions,
): Promise<CsrGraph> {
  if (queries.dim !== corpus.dim) {
    throw new InvalidArgumentError(
      'corpus',
      `dimension ${corpus.dim} differs from the queries' dimension ${queries.dim}`,
    );
  }
  const k = positiveInt('k', options.k);
  const threshold = optionalThreshold(options.threshold);
  const exclude =
    options.exclude === undefined ? undefined : toMask(options.exclude, corpus.rows, 'exclude');
  return call(() =>
    native.bipartiteTopKNative(queries.data, corpus.data, queries.dim, { k, threshold, exclude }),
  );
}

/** Options of {@link knnGraph}. */
export interface KnnGraphOptions {
  /** Neighbours per row (before symmetrisation): the paper's `d_max`. */
  k: number;
  /** Keep only cosine similarities strictly above this (`τ`). Default: keep all. */
  threshold?: number;
  /** Add every edge's reverse (union), making the graph undirected. Default false. */
  symmetric?: boolean;
}

/**
 * The exact k-nearest-neighbour graph of a matrix with itself (self excluded), pruned by the
 * threshold and optionally symmetrised, as CSR. Computed block by block, so memory beyond the
 * input is the output plus a few megabytes per core.
 */
export async function knnGraph(corpus: Matrix, options: KnnGraphOptions): Promise<CsrGraph> {
  const k = positiveInt('k', options.k);
  const threshold = optionalThreshold(options.threshold);
  return call(() =>
    native.knnGraphNative(corpus.data, corpus.dim, {
      k,
      threshold,
      symmetric: options.symmetric ?? false,
    }),
  );
}

/** A CSR graph as {@link propagate} reads it; `sims` is needed only when `weighted`. */
export interface GraphInput {
  readonly offsets: Uint32Array;
  readonly ids: Uint32Array;
  readonly sims?: Float32Array;
}

/** Options of {@link propagate}. */
export interface PropagateOptions {
  /** Number of `Y ← W·Y` iterations (Algorithm 3's `T`). */
  iterations: number;
  /** Weight edges by similarity (`s_ij / Σ s`) instead of the paper's `1 / deg`. Default false. */
  weighted?: boolean;
}

/**
 * GBLE label propagation (Algorithm 3): `Y ← W·Y` with `W` row-normalised (`1 / deg`), and every
 * clamped row reset to its `y0` value after each iteration.
 *
 * Label encoding: put `+1` for positives (seeds and oracle-confirmed rows), a negative value for
 * oracle negatives (`-1` by default in the strategies), `0` for unlabeled rows, and clamp exactly
 * the labeled rows. The result is each row's score: higher means more likely positive. Rows with
 * no edges score 0.
 */
export async function propagate(
  graph: GraphInput,
  y0: Float32Array,
  clamp: Uint8Array,
  options: PropagateOptions,
): Promise<Float32Array> {
  if (!(y0 instanceof Float32Array)) throw new InvalidArgumentError('y0', 'must be a Float32Array');
  if (!(clamp instanceof Uint8Array)) {
    throw new InvalidArgumentError('clamp', 'must be a Uint8Array');
  }
  const iterations = positiveInt('iterations', options.iterations);
  const weighted = options.weighted ?? false;
  if (weighted && graph.sims === undefined) {
    throw new InvalidArgumentError('graph.sims', 'weighted propagation needs edge similarities');
  }
  return call(() =>
    native.propagateNative(
      graph.offsets,
      graph.ids,
      weighted ? graph.sims : undefined,
      y0,
      clamp,
      { iterations, weighted },
    ),
  );
}

/**
 * The `k` highest-scoring rows not in `exclude`, best first; ties go to the smaller id. Fewer
 * than `k` come back when fewer rows are eligible. Linear time, synchronous.
 */
export function topCandidates(scores: Float32Array, k: number, exclude?: RowSet): Uint32Array {
  if (!(scores instanceof Float32Array)) {
    throw new InvalidArgumentError('scores', 'must be a Float32Array');
  }
  positiveInt('k', k);
  const mask = exclude === undefined ? undefined : toMask(exclude, scores.length, 'exclude');
  try {
    return native.topCandidatesNative(scores, k, mask);
  } catch (e) {
    throw fromNative(e);
  }
}

/** The neighbours of row `i` of a CSR graph, as `[ids, sims]` views (no copy). */
export function neighbours(graph: CsrGraph, i: number): [Uint32Array, Float32Array] {
  const a = graph.offsets[i];
  const b = graph.offsets[i + 1];
  return [graph.ids.subarray(a, b), graph.sims.subarray(a, b)];
}
