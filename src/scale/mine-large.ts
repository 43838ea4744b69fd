/**
 * GBLE on corpora larger than memory (Algorithm 3 with `K = K0 / p_prev`, out of core).
 *
 * The corpus vectors stay in their `.npy` / `.f32` shards, memory-mapped by the Rust core and
 * never copied into the JavaScript heap. The corpus kNN graph is the inverted-file graph of
 * `synapse-core::scale` (two-level k-means lists, each list compared with its `probes` nearest
 * lists), built block by block into `workDir` and resumed from there after a kill; the seeds'
 * edges take one streaming pass; every round propagates over the memory-mapped graph. What
 * JavaScript holds is a few bytes per row: labels, scores and the seed degree.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_METHOD_PARAMS } from '../defaults';
import { fromNative, InvalidArgumentError } from '../errors';
import { topCandidates, type Matrix } from '../kernels';
import { metricsRow, type MetricsRow } from '../metrics';
import native from '../native';
import { createGroundTruthOracle } from '../oracle/ground-truth';
import type { Oracle, OracleItem } from '../oracle/oracle';
import { adaptiveK, NEGATIVE, POSITIVE } from '../strategies/strategy';
import type { DiskGraphInfo, DiskGraphHandle, ScaleProgress, VectorShards } from '../../index';

export type { DiskGraphInfo };

/** Options of {@link mineLarge}. */
export interface LargeMineOptions {
  /** Corpus shards, in row order: `.npy` (float32, 2-D) or raw little-endian `.f32`. */
  vectors: readonly string[];
  /** Columns of raw `.f32` shards. */
  dim?: number;
  /** The selected seeds, embedded like the corpus. */
  seeds: Matrix;
  /** Labels the candidates (rows are 0-based corpus rows; ids are their 1-based numbers). */
  oracle: Oracle;
  /** Where the graph is built and kept (reused by later runs on the same shards). */
  workDir: string;
  /** GBLE parameters (defaults: the library's GBLE defaults). */
  tau?: number;
  dmax?: number;
  k0?: number;
  iterations?: number;
  negativeLabel?: number;
  /** Inverted lists of the graph (default rows / 256) and lists probed per list (default 3). */
  lists?: number;
  probes?: number;
  /** Bound on resident memory, in bytes. */
  memoryLimit?: number;
  /** Stop rules, as in `mine` (without any: 10 % of the corpus). */
  rounds?: number;
  maxQueries?: number;
  maxQueryRatio?: number;
  /** Called with every progress reading of the long native stages (about 4 per second). */
  onProgress?: (stage: string, done: number, total: number) => void;
  /** Called after every round. */
  onRound?: (metrics: MetricsRow, rows: Uint32Array) => void;
  signal?: AbortSignal;
}

/** What {@link mineLarge} returns. */
export interface LargeMineResult {
  metrics: MetricsRow[];
  /** Queried rows in order, with their labels and rounds. */
  labeled: { row: number; label: boolean; round: number }[];
  stopReason: string;
  graph: DiskGraphInfo;
  /** Seconds: graph build, seed edges, propagation per round (mean), oracle, all rounds. */
  timings: { graph: number; seedEdges: number; propagatePerRound: number; oracle: number; rounds: number };
  /** Peak resident set size of this process so far, in bytes. */
  peakRssBytes: number;
  /** Rows in the corpus. */
  rows: number;
}

/** Open corpus shards (memory-mapped), with errors naming the flag. */
export function openShards(vectors: readonly string[], dim?: number): VectorShards {
  if (vectors.length === 0) throw new InvalidArgumentError('--vectors', 'give at least one shard');
  try {
    return native.VectorShards.open([...vectors], dim);
  } catch (e) {
    throw fromNative(e);
  }
}

/** Run `work` (a native promise) while polling `progress` for `onProgress`; cancel on abort. */
export async function withProgress<T>(
  progress: ScaleProgress,
  work: Promise<T>,
  onProgress?: (stage: string, done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  const abort = () => progress.cancel();
  signal?.addEventListener('abort', abort);
  const tick = () => {
    const s = progress.snapshot();
    onProgress?.(s.stage, s.done, s.total);
  };
  const timer = onProgress ? setInterval(tick, 250) : undefined;
  try {
    const r = await work;
    if (onProgress) tick();
    return r;
  } catch (e) {
    throw fromNative(e);
  } finally {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', abort);
  }
}

function positiveInt(flag: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(flag, `must be a positive integer, got ${v}`);
  return v;
}

/** Mine the sharded corpus with GBLE out of core. See the module documentation. */
export async function mineLarge(options: LargeMineOptions): Promise<LargeMineResult> {
  const store = openShards(options.vectors, options.dim);
  const n = store.rows;
  const d = store.dim;
  if (options.seeds.dim !== d) {
    throw new InvalidArgumentError('seeds', `dimension ${options.seeds.dim} differs from the corpus's ${d} (embed both with the same model)`);
  }
  const defaults = DEFAULT_METHOD_PARAMS;
  const tau = options.tau ?? 0;
  if (!Number.isFinite(tau) || tau < -1 || tau >= 1) throw new InvalidArgumentError('tau', `must be a number in [-1, 1), got ${tau}`);
  const dmax = positiveInt('dmax', options.dmax, defaults.dmax);
  const k0 = positiveInt('k0', options.k0, defaults.k0);
  const iterations = positiveInt('iterations', options.iterations, defaults.iterations);
  const negativeLabel = options.negativeLabel ?? defaults.negativeLabel;
  if (!(negativeLabel >= -1 && negativeLabel <= 0)) throw new InvalidArgumentError('negativeLabel', `must be in [-1, 0], got ${negativeLabel}`);
  const rounds = options.rounds === undefined ? undefined : positiveInt('rounds', options.rounds, 1);
  let ratio = options.maxQueryRatio;
  if (ratio !== undefined && !(ratio > 0 && ratio <= 1)) throw new InvalidArgumentError('maxQueryRatio', `must be in (0, 1], got ${ratio}`);
  if (ratio === undefined && rounds === undefined && options.maxQueries === undefined) ratio = 0.1;
  const budget = Math.min(
    options.maxQueries === undefined ? n : positiveInt('maxQueries', options.maxQueries, n),
    ratio === undefined ? n : Math.floor(ratio * n + 1e-9),
  );
  if (options.memoryLimit !== undefined && !(options.memoryLimit > 0)) {
    throw new InvalidArgumentError('memoryLimit', `must be a positive number of bytes, got ${options.memoryLimit}`);
  }
  await fsp.mkdir(options.workDir, { recursive: true });
  const graphDir = path.join(options.workDir, `graph-d${dmax}-t${tau}`);

  const t0 = performance.now();
  const graphProgress = new native.ScaleProgress();
  const graphInfo = await withProgress(
    graphProgress,
    native.buildDiskGraphNative(store, graphDir, { k: dmax, threshold: tau, lists: options.lists, probes: options.probes, memoryLimit: options.memoryLimit }, graphProgress),
    options.onProgress,
    options.signal,
  );
  const graph: DiskGraphHandle = native.DiskGraphHandle.open(graphDir);
  const tGraph = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const seedProgress = new native.ScaleProgress();
  const seedLists = await withProgress(
    seedProgress,
    native.seedEdgesNative(store, options.seeds.data, dmax, tau, options.memoryLimit, seedProgress),
    options.onProgress,
    options.signal,
  );
  const seedDegrees = new Uint32Array(n);
  for (const j of seedLists.ids) seedDegrees[j]++;
  const tSeeds = (performance.now() - t1) / 1000;

  const labels = new Int8Array(n);
  const metrics: MetricsRow[] = [];
  const labeled: LargeMineResult['labeled'] = [];
  let queried = 0;
  let found = 0;
  let previousPrecision: number | undefined;
  let stopReason = '';
  let propagateSeconds = 0;
  let oracleSeconds = 0;
  const tr = performance.now();
  for (let round = 1; ; round++) {
    options.signal?.throwIfAborted();
    if (rounds !== undefined && round > rounds) {
      stopReason = `reached --rounds ${rounds}`;
      break;
    }
    if (queried >= budget) {
      stopReason = `reached the query budget (${budget} rows)`;
      break;
    }
    const y0 = new Float32Array(n);
    const clamp = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (labels[i] === POSITIVE) {
        y0[i] = 1;
        clamp[i] = 1;
      } else if (labels[i] === NEGATIVE) {
        y0[i] = negativeLabel;
        clamp[i] = 1;
      }
    }
    const tp = performance.now();
    const progress = new native.ScaleProgress();
    const scores = await withProgress(
      progress,
      native.propagateDiskNative(graph, seedDegrees, y0, clamp, iterations, options.memoryLimit, progress),
      options.onProgress,
      options.signal,
    );
    propagateSeconds += (performance.now() - tp) / 1000;
    const k = Math.min(adaptiveK(k0, previousPrecision), budget - queried);
    const ranked = topCandidates(scores, k, clamp);
    if (ranked.length === 0 || !(scores[ranked[0]] > 0)) {
      stopReason =
        round === 1
          ? `no corpus row is within ${iterations} graph steps of a seed (tau = ${tau}); try a lower --tau`
          : "no unlabeled row has a positive score: the positives' graph neighbourhoods are exhausted";
      break;
    }
    const items: OracleItem[] = Array.from(ranked, (r) => ({ row: r, id: String(r + 1), text: '' }));
    const to = performance.now();
    const answers = await options.oracle.label(items, { signal: options.signal });
    oracleSeconds += (performance.now() - to) / 1000;
    if (answers.length !== items.length) {
      throw new InvalidArgumentError('oracle', `returned ${answers.length} labels for ${items.length} rows`);
    }
    let newPositives = 0;
    answers.forEach((a, i) => {
      const r = items[i].row;
      labels[r] = a ? POSITIVE : NEGATIVE;
      labeled.push({ row: r, label: a, round });
      if (a) newPositives++;
    });
    queried += items.length;
    found += newPositives;
    previousPrecision = newPositives / items.length;
    const m = metricsRow(round, queried, found, n, options.oracle.totalPositives);
    metrics.push(m);
    options.onRound?.(m, ranked);
    if (newPositives === 0) {
      stopReason = `round ${round} found no new positive`;
      break;
    }
  }
  const roundsRun = Math.max(1, metrics.length);
  return {
    metrics,
    labeled,
    stopReason,
    graph: graphInfo,
    timings: {
      graph: tGraph,
      seedEdges: tSeeds,
      propagatePerRound: propagateSeconds / roundsRun,
      oracle: oracleSeconds,
      rounds: (performance.now() - tr) / 1000,
    },
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rows: n,
  };
}

/** Read a ground-truth column saved as a 1-D `.npy` of uint8, int8 or bool (non-zero = positive). */
export async function readTruthNpy(file: string, flag = '--truth'): Promise<Uint8Array> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    throw new InvalidArgumentError(flag, `cannot read ${file}: ${(e as Error).message}`);
  }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new InvalidArgumentError(flag, `${file} is not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const shape = /'shape'\s*:\s*\(\s*(\d+)\s*,?\s*\)/.exec(header)?.[1];
  if (!descr || !['|u1', '|i1', '|b1'].includes(descr) || shape === undefined) {
    throw new InvalidArgumentError(flag, `${file}: expected a 1-D uint8/int8/bool array, got header ${JSON.stringify(header.trim())}`);
  }
  const n = Number(shape);
  if (buf.length < start + n) throw new InvalidArgumentError(flag, `${file} is truncated: ${buf.length - start} of ${n} values`);
  return new Uint8Array(buf.buffer, buf.byteOffset + start, n);
}

/** The ground-truth oracle over a column read by {@link readTruthNpy}, checked against the corpus size. */
export function createTruthOracle(truth: Uint8Array, rows: number, flag = '--truth'): Oracle {
  if (truth.length !== rows) throw new InvalidArgumentError(flag, `has ${truth.length} values for ${rows} corpus rows`);
  return createGroundTruthOracle(truth);
}

/** Options of {@link writePlantedCorpus}. */
export interface PlantedCorpusOptions {
  rows: number;
  dim?: number;
  topics?: number;
  subclusters?: number;
  positiveRate?: number;
  modes?: number;
  seeds?: number;
  shardRows?: number;
  seed?: number;
}

/**
 * Write a planted corpus for scale tests: clustered unit vectors with a rare event of a few
 * modes hidden inside ordinary topics (`corpus-NNN.npy` shards), noisier synthetic seeds
 * (`seeds.npy`) and the ground-truth column (`truth.npy`).
 */
export async function writePlantedCorpus(dir: string, o: PlantedCorpusOptions): Promise<{ shards: string[]; seeds: string; truth: string; positives: number }> {
  try {
    return await native.writePlantedCorpusNative(dir, {
      rows: o.rows,
      dim: o.dim ?? 384,
      topics: o.topics ?? Math.max(10, Math.round(o.rows / 10_000)),
      subclusters: o.subclusters ?? 100,
      positiveRate: o.positiveRate ?? 0.001,
      modes: o.modes ?? 5,
      seeds: o.seeds ?? 50,
      shardRows: o.shardRows ?? 0,
      seed: o.seed ?? 0,
    });
  } catch (e) {
    throw fromNative(e);
  }
}
