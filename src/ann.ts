/**
 * Approximate k-nearest-neighbour graphs with an HNSW index (usearch, an optional dependency with
 * prebuilt binaries inside its npm package): the same CSR result as {@link knnGraph}, built in
 * roughly O(n log n) instead of O(n²). For corpora where the exact all-pairs graph is too slow.
 *
 * usearch's calls are synchronous: they use their own threads but block the event loop while
 * they run. Exactness can be checked with `recallAgainst`.
 */
import { InvalidArgumentError, SynapseError } from './errors';
import { knnGraph, type CsrGraph, type Matrix } from './kernels';

/** How the corpus kNN graph is built. */
export type GraphIndex = 'exact' | 'hnsw';

/** Options of {@link approximateKnnGraph}. */
export interface AnnGraphOptions {
  k: number;
  threshold?: number;
  symmetric?: boolean;
  /** HNSW connectivity (M). Default 16. */
  connectivity?: number;
  /** Candidate list size while adding (efConstruction). Default 128. */
  expansionAdd?: number;
  /** Candidate list size while searching (ef). Default 4·k, at least 64. */
  expansionSearch?: number;
  /** Threads; default all cores. */
  threads?: number;
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads?: number): { keys: BigUint64Array; distances: Float32Array; counts: BigUint64Array; k: number };
}
interface UsearchModule {
  Index: new (config: { dimensions: number; metric: string; quantization: string; connectivity: number; expansion_add: number; expansion_search: number; multi: boolean }) => UsearchIndex;
  MetricKind: { Cos: string };
  ScalarKind: { F32: string };
}

function loadUsearch(): UsearchModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional dependency, loaded on demand
    return require('usearch') as UsearchModule;
  } catch (e) {
    throw new SynapseError(
      `--index hnsw needs the optional dependency usearch (npm install usearch; it ships prebuilt binaries): ${(e as Error).message}`,
      'UNAVAILABLE',
      { cause: e },
    );
  }
}

/** Build CSR from per-row neighbour lists (best first), optionally adding every reverse edge. */
function toCsr(n: number, lists: { ids: number[]; sims: number[] }[], symmetric: boolean): CsrGraph {
  if (symmetric) {
    const seen = lists.map((l) => new Set(l.ids));
    for (let i = 0; i < n; i++) {
      const l = lists[i];
      for (let e = 0; e < l.ids.length; e++) {
        const j = l.ids[e];
        if (!seen[j].has(i)) {
          seen[j].add(i);
          lists[j].ids.push(i);
          lists[j].sims.push(l.sims[e]);
        }
      }
    }
  }
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + lists[i].ids.length;
  const ids = new Uint32Array(offsets[n]);
  const sims = new Float32Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    const l = lists[i];
    const order = l.ids.map((_, e) => e).sort((a, b) => l.sims[b] - l.sims[a] || l.ids[a] - l.ids[b]);
    order.forEach((e, p) => {
      ids[offsets[i] + p] = l.ids[e];
      sims[offsets[i] + p] = l.sims[e];
    });
  }
  return { offsets, ids, sims };
}

/** The approximate kNN graph of `corpus` with itself (self excluded), as CSR. */
export function approximateKnnGraph(corpus: Matrix, options: AnnGraphOptions): CsrGraph {
  const k = options.k;
  if (!Number.isInteger(k) || k <= 0) throw new InvalidArgumentError('k', `must be a positive integer, got ${k}`);
  const n = corpus.rows;
  for (let i = 0; i < corpus.data.length; i++) {
    if (!Number.isFinite(corpus.data[i])) {
      throw new InvalidArgumentError('corpus', `row ${Math.floor(i / corpus.dim)}, column ${i % corpus.dim} is not finite`);
    }
  }
  const u = loadUsearch();
  const index = new u.Index({
    dimensions: corpus.dim,
    metric: u.MetricKind.Cos,
    quantization: u.ScalarKind.F32,
    connectivity: options.connectivity ?? 16,
    expansion_add: options.expansionAdd ?? 128,
    expansion_search: options.expansionSearch ?? Math.max(64, 4 * k),
    multi: false,
  });
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  const threads = options.threads ?? 0;
  index.add(keys, corpus.data, threads);
  const found = index.search(corpus.data, k + 1, threads);
  const lists: { ids: number[]; sims: number[] }[] = [];
  const t = options.threshold;
  for (let i = 0; i < n; i++) {
    const ids: number[] = [];
    const sims: number[] = [];
    const count = Number(found.counts[i]);
    for (let e = 0; e < count && ids.length < k; e++) {
      const j = Number(found.keys[i * found.k + e]);
      if (j === i) continue;
      const sim = 1 - found.distances[i * found.k + e];
      if (t !== undefined && !(sim > t)) continue;
      ids.push(j);
      sims.push(sim);
    }
    lists.push({ ids, sims });
  }
  return toCsr(n, lists, options.symmetric ?? false);
}

/** The kNN graph by `index`: exact (Rust, blocked GEMM) or approximate (HNSW). */
export async function buildKnnGraph(corpus: Matrix, options: { k: number; threshold?: number; symmetric?: boolean; index?: GraphIndex }): Promise<CsrGraph> {
  if ((options.index ?? 'exact') === 'exact') return knnGraph(corpus, options);
  if (options.index !== 'hnsw') throw new InvalidArgumentError('index', `must be exact or hnsw, got ${String(options.index)}`);
  return approximateKnnGraph(corpus, options);
}

/** Share of `exact`'s edges that `approx` also has (recall@k of the approximate graph). */
export function graphRecall(approx: CsrGraph, exact: CsrGraph): number {
  let hit = 0;
  const n = exact.offsets.length - 1;
  for (let i = 0; i < n; i++) {
    const got = new Set(approx.ids.subarray(approx.offsets[i], approx.offsets[i + 1]));
    for (let e = exact.offsets[i]; e < exact.offsets[i + 1]; e++) if (got.has(exact.ids[e])) hit++;
  }
  return exact.ids.length === 0 ? 1 : hit / exact.ids.length;
}
