/**
 * Approximate k-nearest-neighbour graphs: the same CSR result as {@link knnGraph}, built in
 * roughly O(n log n) (HNSW) or O(n·√n) (IVF) instead of O(n²), for corpora where the exact
 * all-pairs graph is too slow. Two backends, both optional:
 *
 * - usearch (HNSW; an optional npm dependency with prebuilt binaries);
 * - faiss-node (HNSW and IVF; built from source against Debian's faiss by
 *   `bash scripts/setup-faiss.sh`, since its own install downloads from GitHub).
 *
 * Both are synchronous: they use their own threads but block the event loop while they run.
 * faiss-node needs plain JS arrays (not typed arrays), so rows are added and searched in chunks,
 * and a faiss exception outside its few guarded calls aborts the whole process: every input is
 * checked here before it reaches faiss. faiss-node cannot set efSearch or nprobe; they are set
 * by patching the (empty or freshly trained) index's serialised form, whose layout is checked
 * field by field. Exactness can be checked with {@link graphRecall}.
 */
import * as path from 'node:path';
import { InvalidArgumentError, SynapseError } from './errors';
import { knnGraph, type CsrGraph, type Matrix } from './kernels';

/** How the corpus kNN graph is built. */
export type GraphIndex = 'exact' | 'hnsw' | 'ivf';
/** Every {@link GraphIndex}. */
export const GRAPH_INDEXES: readonly GraphIndex[] = ['exact', 'hnsw', 'ivf'];
/** The library that builds an approximate index. */
export type AnnBackend = 'usearch' | 'faiss';
/** Every {@link AnnBackend}. */
export const ANN_BACKENDS: readonly AnnBackend[] = ['usearch', 'faiss'];
/** The backend of `hnsw` when none is named (ivf is faiss only). */
export const DEFAULT_HNSW_BACKEND: AnnBackend = 'usearch';

/** Options of {@link approximateKnnGraph}. */
export interface AnnGraphOptions {
  k: number;
  threshold?: number;
  symmetric?: boolean;
  /** Index kind: `hnsw` (default) or `ivf` (faiss only). */
  index?: 'hnsw' | 'ivf';
  /** Library: hnsw defaults to {@link DEFAULT_HNSW_BACKEND}, ivf needs `faiss`. */
  backend?: AnnBackend;
  /** HNSW connectivity (M). Default 16 (usearch), 32 (faiss). */
  connectivity?: number;
  /** HNSW candidate list size while adding (efConstruction). Default 128 (usearch), 40 (faiss). */
  expansionAdd?: number;
  /** HNSW candidate list size while searching (ef). Default 4·k, at least 64. */
  expansionSearch?: number;
  /** IVF: inverted lists (k-means centroids). Default round(4·√n), at most n / 39. */
  nlist?: number;
  /** IVF: lists searched per query. Default 16 (at most nlist). */
  nprobe?: number;
  /** IVF: rows the k-means quantizer is trained on (evenly spaced). Default min(n, 40·nlist) (faiss wants ≥ 39·nlist). */
  trainRows?: number;
  /** usearch threads; default all cores (faiss uses OpenMP: set OMP_NUM_THREADS). */
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
      `--index hnsw with the usearch backend needs the optional dependency usearch (npm install usearch; it ships prebuilt binaries): ${(e as Error).message}`,
      'UNAVAILABLE',
      { cause: e },
    );
  }
}

/** faiss-node 0.5.1's API, as far as it is used here (see its lib/index.d.ts). */
interface FaissIndex {
  ntotal(): number;
  isTrained(): boolean;
  add(x: number[]): void;
  train(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  toBuffer(): Buffer;
}
interface FaissModule {
  Index: { fromFactory(dims: number, descriptor: string, metric?: number): FaissIndex; fromBuffer(src: Buffer): FaissIndex };
  MetricType: { METRIC_INNER_PRODUCT: number };
}

let faissModule: FaissModule | undefined;

/** Where scripts/setup-faiss.sh puts faiss-node (outside node_modules, so npm does not prune it). */
export const FAISS_NODE_DIR = path.join(__dirname, '..', '.cache', 'faiss-node', 'node_modules', 'faiss-node');

function loadFaiss(): FaissModule {
  if (faissModule) return faissModule;
  const errors: string[] = [];
  for (const spec of ['faiss-node', FAISS_NODE_DIR]) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, built by scripts/setup-faiss.sh
      faissModule = require(spec) as FaissModule;
      return faissModule;
    } catch (e) {
      errors.push((e as Error).message.split('\n')[0]);
    }
  }
  throw new SynapseError(
    `the faiss backend needs faiss-node, compiled against the system faiss: run \`bash scripts/setup-faiss.sh\` in a synapse-g checkout (elsewhere: install a working faiss-node), or use --ann-backend usearch (${errors.join('; ')})`,
    'UNAVAILABLE',
  );
}

/** Is faiss-node installed and built? */
export function faissAvailable(): boolean {
  try {
    loadFaiss();
    return true;
  } catch {
    return false;
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

function checkInt(name: string, v: number, lo: number, hi = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new InvalidArgumentError(name, `must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

/** Shape and values of `corpus`, checked before any native library sees them. */
function checkCorpus(corpus: Matrix): void {
  const { rows, dim, data } = corpus;
  if (!(data instanceof Float32Array)) throw new InvalidArgumentError('corpus', 'must be a Float32Array');
  if (!Number.isInteger(dim) || dim <= 0) throw new InvalidArgumentError('corpus.dim', `must be a positive integer, got ${dim}`);
  if (!Number.isInteger(rows) || rows < 0 || rows * dim !== data.length) {
    throw new InvalidArgumentError('corpus', `${rows} rows × ${dim} does not match ${data.length} values`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new InvalidArgumentError('corpus', `row ${Math.floor(i / dim)}, column ${i % dim} is not finite`);
  }
}

/** Keep each row's best `k` hits other than itself above `threshold`. */
function collect(lists: { ids: number[]; sims: number[] }[], row: number, k: number, threshold: number | undefined, hits: number, id: (e: number) => number, sim: (e: number) => number): void {
  const ids: number[] = [];
  const sims: number[] = [];
  for (let e = 0; e < hits && ids.length < k; e++) {
    const j = id(e);
    if (j < 0 || j === row) continue;
    const s = sim(e);
    if (threshold !== undefined && !(s > threshold)) continue;
    ids.push(j);
    sims.push(s);
  }
  lists.push({ ids, sims });
}

function usearchGraph(corpus: Matrix, options: AnnGraphOptions): { offsets: Uint32Array; ids: Uint32Array; sims: Float32Array } {
  const k = options.k;
  const n = corpus.rows;
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
  for (let i = 0; i < n; i++) {
    const base = i * found.k;
    collect(lists, i, k, options.threshold, Number(found.counts[i]), (e) => Number(found.keys[base + e]), (e) => 1 - found.distances[base + e]);
  }
  return toCsr(n, lists, options.symmetric ?? false);
}

/** Values per faiss-node call: its inputs are plain JS arrays (8 bytes a value), so stay near 32 MB. */
const FAISS_CHUNK_VALUES = 4_000_000;

/** Rows `from..to` of `x` as the plain array faiss-node wants. */
function plainRows(x: Float32Array, dim: number, from: number, to: number): number[] {
  return Array.from(x.subarray(from * dim, to * dim));
}

/** Unit-length copy of the rows (zero rows stay zero), so that inner product = cosine. */
function normalized(corpus: Matrix): Float32Array {
  const { data, dim } = corpus;
  const out = new Float32Array(data.length);
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let p = o; p < o + dim; p++) s += data[p] * data[p];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = o; p < o + dim; p++) out[p] = data[p] * inv;
  }
  return out;
}

/** Where faiss's serialised index header ends (faiss 1.7 `write_index_header`), checking the fourcc. */
function faissHeaderEnd(buf: Buffer, fourcc: string): number {
  const got = buf.toString('latin1', 0, 4);
  if (got !== fourcc) throw new SynapseError(`faiss index layout not understood: fourcc ${JSON.stringify(got)}, expected ${fourcc}`, 'UNAVAILABLE');
  return 37 + (buf.readInt32LE(33) > 1 ? 4 : 0); // fourcc, d, ntotal, 2 dummies, is_trained, metric (+ metric_arg)
}

/** Offsets of efConstruction and efSearch in a serialised IndexHNSWFlat (faiss 1.7 `write_HNSW`). */
function hnswEfOffsets(buf: Buffer): { efConstruction: number; efSearch: number } {
  let o = faissHeaderEnd(buf, 'IHNf');
  for (const size of [8, 4, 4, 8, 4]) {
    // assign_probas, cum_nneighbor_per_level, levels, offsets, neighbors
    const len = Number(buf.readBigUInt64LE(o));
    o += 8 + len * size;
    if (o > buf.length) throw new SynapseError('faiss HNSW layout not understood', 'UNAVAILABLE');
  }
  return { efConstruction: o + 8, efSearch: o + 12 }; // after entry_point, max_level
}

/** Rebuild `index` from its serialised form with `patch` applied, checking the patch reads back. */
function patched(f: FaissModule, index: FaissIndex, patch: (buf: Buffer) => void, check: (buf: Buffer) => boolean): FaissIndex {
  const buf = index.toBuffer();
  patch(buf);
  const out = f.Index.fromBuffer(buf);
  if (!check(out.toBuffer())) throw new SynapseError('faiss index parameters did not take (unexpected serialised layout)', 'UNAVAILABLE');
  return out;
}

/** The faiss index for `options`, trained and with its search parameters set, still empty. */
function faissIndex(f: FaissModule, x: Float32Array, n: number, dim: number, options: AnnGraphOptions): FaissIndex {
  const k = options.k;
  if ((options.index ?? 'hnsw') === 'hnsw') {
    const m = checkInt('connectivity', options.connectivity ?? 32, 2, 256);
    const efC = checkInt('expansionAdd', options.expansionAdd ?? 40, 1, 1 << 16);
    const efS = checkInt('expansionSearch', options.expansionSearch ?? Math.max(64, 4 * k), 1, 1 << 16);
    const empty = f.Index.fromFactory(dim, `HNSW${m},Flat`, f.MetricType.METRIC_INNER_PRODUCT);
    return patched(
      f,
      empty,
      (buf) => {
        const at = hnswEfOffsets(buf);
        if (buf.readInt32LE(at.efConstruction) !== 40 || buf.readInt32LE(at.efSearch) !== 16) {
          throw new SynapseError('faiss HNSW layout not understood (efConstruction/efSearch not at their defaults 40/16)', 'UNAVAILABLE');
        }
        buf.writeInt32LE(efC, at.efConstruction);
        buf.writeInt32LE(efS, at.efSearch);
      },
      (buf) => {
        const at = hnswEfOffsets(buf);
        return buf.readInt32LE(at.efConstruction) === efC && buf.readInt32LE(at.efSearch) === efS;
      },
    );
  }
  const maxLists = Math.max(1, Math.floor(n / 39));
  const nlist = options.nlist === undefined ? Math.min(maxLists, Math.max(1, Math.round(4 * Math.sqrt(n)))) : checkInt('nlist', options.nlist, 1, n);
  const nprobe = checkInt('nprobe', options.nprobe ?? Math.min(16, nlist), 1, nlist);
  const trainRows = options.trainRows === undefined ? Math.min(n, 40 * nlist) : checkInt('trainRows', options.trainRows, nlist, n);
  const index = f.Index.fromFactory(dim, `IVF${nlist},Flat`, f.MetricType.METRIC_INNER_PRODUCT);
  // k-means needs at least nlist points (faiss throws, uncaught, otherwise): trainRows ≥ nlist above.
  const sample = new Float32Array(trainRows * dim);
  for (let r = 0; r < trainRows; r++) {
    const src = Math.floor((r * n) / trainRows);
    sample.set(x.subarray(src * dim, (src + 1) * dim), r * dim);
  }
  index.train(plainRows(sample, dim, 0, trainRows));
  if (!index.isTrained()) throw new SynapseError('faiss IVF index did not train', 'NATIVE_ERROR');
  const at = faissHeaderEnd(index.toBuffer(), 'IwFl');
  return patched(
    f,
    index,
    (buf) => {
      if (buf.readBigUInt64LE(at) !== BigInt(nlist) || buf.readBigUInt64LE(at + 8) !== 1n) {
        throw new SynapseError('faiss IVF layout not understood (nlist/nprobe)', 'UNAVAILABLE');
      }
      buf.writeBigUInt64LE(BigInt(nprobe), at + 8);
    },
    (buf) => buf.readBigUInt64LE(at + 8) === BigInt(nprobe),
  );
}

function faissGraph(corpus: Matrix, options: AnnGraphOptions): CsrGraph {
  const f = loadFaiss();
  const { rows: n, dim } = corpus;
  const x = normalized(corpus);
  const index = faissIndex(f, x, n, dim, options);
  const chunk = Math.max(1, Math.floor(FAISS_CHUNK_VALUES / dim));
  for (let from = 0; from < n; from += chunk) index.add(plainRows(x, dim, from, Math.min(n, from + chunk)));
  if (index.ntotal() !== n) throw new SynapseError(`faiss index holds ${index.ntotal()} rows, expected ${n}`, 'NATIVE_ERROR');
  const kk = Math.min(options.k + 1, n); // faiss-node refuses k > ntotal
  const lists: { ids: number[]; sims: number[] }[] = [];
  const qChunk = Math.max(1, Math.floor(FAISS_CHUNK_VALUES / Math.max(dim, kk)));
  for (let from = 0; from < n; from += qChunk) {
    const to = Math.min(n, from + qChunk);
    const r = index.search(plainRows(x, dim, from, to), kk);
    for (let i = from; i < to; i++) {
      const base = (i - from) * kk;
      collect(lists, i, options.k, options.threshold, kk, (e) => r.labels[base + e], (e) => r.distances[base + e]);
    }
  }
  return toCsr(n, lists, options.symmetric ?? false);
}

/** Check the index/backend pair; resolves the default backend. */
export function resolveAnnBackend(index: 'hnsw' | 'ivf', backend: AnnBackend | undefined, names: { index?: string; backend?: string } = {}): AnnBackend {
  if (index !== 'hnsw' && index !== 'ivf') throw new InvalidArgumentError(names.index ?? 'index', `must be exact, hnsw or ivf, got ${String(index)}`);
  if (backend !== undefined && backend !== 'usearch' && backend !== 'faiss') {
    throw new InvalidArgumentError(names.backend ?? 'backend', `must be usearch or faiss, got ${String(backend)}`);
  }
  if (index === 'ivf') {
    if (backend === 'usearch') {
      throw new InvalidArgumentError(names.backend ?? 'backend', 'usearch has no IVF index (it builds HNSW only): use the faiss backend for ivf, or hnsw with usearch');
    }
    return 'faiss';
  }
  return backend ?? DEFAULT_HNSW_BACKEND;
}

/** The approximate kNN graph of `corpus` with itself (self excluded), as CSR. */
export function approximateKnnGraph(corpus: Matrix, options: AnnGraphOptions): CsrGraph {
  const k = options.k;
  if (!Number.isInteger(k) || k <= 0) throw new InvalidArgumentError('k', `must be a positive integer, got ${k}`);
  if (options.threshold !== undefined && !Number.isFinite(options.threshold)) throw new InvalidArgumentError('threshold', `must be a finite number, got ${options.threshold}`);
  const index = options.index ?? 'hnsw';
  const backend = resolveAnnBackend(index, options.backend);
  checkCorpus(corpus);
  if (corpus.rows === 0) return { offsets: new Uint32Array(1), ids: new Uint32Array(0), sims: new Float32Array(0) };
  return backend === 'faiss' ? faissGraph(corpus, { ...options, index }) : usearchGraph(corpus, options);
}

/** The kNN graph by `index`: exact (Rust, blocked GEMM) or approximate (HNSW, IVF) with `backend`. */
export async function buildKnnGraph(
  corpus: Matrix,
  options: { k: number; threshold?: number; symmetric?: boolean; index?: GraphIndex; backend?: AnnBackend },
): Promise<CsrGraph> {
  const index = options.index ?? 'exact';
  if (index === 'exact') return knnGraph(corpus, options);
  if (index !== 'hnsw' && index !== 'ivf') throw new InvalidArgumentError('index', `must be exact, hnsw or ivf, got ${String(index)}`);
  return approximateKnnGraph(corpus, { ...options, index });
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
