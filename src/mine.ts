/**
 * The mining loop: given selected seeds (embedded synthetic positives), an embedded corpus and an
 * oracle, run a method round by round (propose candidates, get their labels, update) until a stop
 * rule fires, recording the metrics after every round.
 */
import { GRAPH_INDEXES, resolveAnnBackend } from './ann';
import { defaultParamsFor, DEFAULT_METHOD_PARAMS } from './defaults';
import { InvalidArgumentError } from './errors';
import { normalize, type Matrix } from './kernels';
import { metricsRow, type MetricsRow } from './metrics';
import type { Oracle, OracleItem } from './oracle/oracle';
import {
  createStrategy,
  isMiningMethod,
  MINING_METHODS,
  NEGATIVE,
  POSITIVE,
  type MethodParams,
  type MiningMethod,
  type MiningState,
} from './strategies/index';
import { Random } from './util/random';
import { createSparkGbleStrategy, type SparkEngineOptions } from './engines/spark';
import type { Strategy } from './strategies/strategy';


/** Share of the corpus queried when no stop rule is given. */
export const DEFAULT_MAX_QUERY_RATIO = 0.1;

/** A corpus row the oracle labeled. */
export interface LabeledRow {
  /** 0-based corpus row. */
  row: number;
  id: string;
  text: string;
  /** The oracle's answer: `true` = positive. */
  label: boolean;
  /** The round it was queried in, from 1. */
  round: number;
}

/** What one round did, for {@link MineOptions.onRound}. */
export interface RoundReport {
  metrics: MetricsRow;
  /** Rows queried this round, in proposal order. */
  rows: Uint32Array;
  /** New positives this round. */
  newPositives: number;
  /** The proposal was cut to fit the query budget. */
  cut: boolean;
  /** Seconds the round took (proposal + oracle). */
  seconds: number;
}

/** Options of {@link mine}. */
export interface MineOptions extends Partial<MethodParams> {
  method: MiningMethod;
  /** The embedded corpus (`rows × dim`; normalised here). */
  corpus: Matrix;
  /** The selected seeds, embedded with the same model (normalised here). */
  seeds: Matrix;
  oracle: Oracle;
  /** Corpus ids (default: 1-based row numbers), for labeled rows and the oracle. */
  ids?: readonly string[];
  /** Corpus texts, handed to the oracle (default: empty strings). */
  texts?: readonly string[];
  /** Stop after this many rounds. */
  rounds?: number;
  /** Stop once this share of the corpus is queried (the last round is cut to fit). */
  maxQueryRatio?: number;
  /** Stop once this many rows are queried (the last round is cut to fit). */
  maxQueries?: number;
  /**
   * Stop after a round with no new positive. Default true for the graph methods (`gble`, `ibg`,
   * `bipartite`), whose next round would only repeat the exhausted neighbourhoods; false for the
   * baselines (`random`, `nn`, `lr`), which run to the budget as in the paper's curves.
   */
  stopWhenNoNewPositive?: boolean;
  /**
   * The embedder spec or model id the vectors came from (e.g. `default`, `hf:DIR`), to pick
   * default parameters (see `defaultParamsFor`). Omit for vectors of unknown origin.
   */
  embedder?: string;
  /** Seeds the random choices (random baseline, LR negatives and subsets). Default 0. */
  seed?: number;
  signal?: AbortSignal;
  /** Where GBLE's graph and propagation run: `local` (default: the Rust kernels) or `spark` (an Apache Spark application, src/engines/spark.ts; gble only). */
  engine?: 'local' | 'spark';
  /** Options of the Spark engine, e.g. its `master`. */
  spark?: SparkEngineOptions;
  /** Called after every round. */
  onRound?: (report: RoundReport) => void;
}

/** What {@link mine} returns. */
export interface MineResult {
  method: MiningMethod;
  params: MethodParams;
  /** Metrics after every round (the rows of `metrics.csv`). */
  metrics: MetricsRow[];
  /** Every queried row with its label, in query order. */
  labeled: LabeledRow[];
  /** Why mining stopped, in words. */
  stopReason: string;
  /** Seconds spent preparing (graphs, rankings) and in the rounds. */
  timings: { prepare: number; rounds: number; oracle: number };
  /** Facts about the run worth a line in a report. */
  notes: string[];
}

function positiveInt(flag: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(flag, `must be a positive integer, got ${v}`);
  return v;
}

/** Check and complete method parameters. Errors name `names[key]` (e.g. `--tau`). */
export function resolveMethodParams(
  given: Partial<MethodParams>,
  names: Partial<Record<keyof MethodParams, string>> = {},
  defaults: Readonly<MethodParams> = DEFAULT_METHOD_PARAMS,
): MethodParams {
  const name = (k: keyof MethodParams): string => names[k] ?? k;
  const tau = given.tau ?? defaults.tau;
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau < -1 || tau >= 1) {
    throw new InvalidArgumentError(name('tau'), `must be a number in [-1, 1), got ${tau}`);
  }
  if (given.index !== undefined && !GRAPH_INDEXES.includes(given.index)) {
    throw new InvalidArgumentError(name('index'), `must be exact, hnsw or ivf, got ${String(given.index)}`);
  }
  if (given.annBackend !== undefined) {
    if ((given.index ?? 'exact') === 'exact') throw new InvalidArgumentError(name('annBackend'), `only applies to an approximate index (hnsw or ivf), not exact`);
    resolveAnnBackend(given.index as 'hnsw' | 'ivf', given.annBackend, { index: name('index'), backend: name('annBackend') });
  }
  const negativeLabel = given.negativeLabel ?? defaults.negativeLabel;
  if (typeof negativeLabel !== 'number' || !Number.isFinite(negativeLabel) || negativeLabel > 0 || negativeLabel < -1) {
    throw new InvalidArgumentError(name('negativeLabel'), `must be a number in [-1, 0], got ${negativeLabel}`);
  }
  return {
    tau,
    dmax: positiveInt(name('dmax'), given.dmax) ?? defaults.dmax,
    k0: positiveInt(name('k0'), given.k0) ?? defaults.k0,
    iterations: positiveInt(name('iterations'), given.iterations) ?? defaults.iterations,
    budget: positiveInt(name('budget'), given.budget ?? defaults.budget),
    negativeLabel,
    ...(given.index !== undefined ? { index: given.index } : {}),
    ...(given.annBackend !== undefined ? { annBackend: given.annBackend } : {}),
  };
}

/** Rows already of unit length (within float32 rounding) are used as they are, not copied. */
function isNormalized(m: Matrix): boolean {
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = i * m.dim; j < (i + 1) * m.dim; j++) s += m.data[j] * m.data[j];
    if (!(Math.abs(s - 1) <= 1e-4)) return false; // also false for NaN
  }
  return true;
}

async function normalized(m: Matrix, name: string): Promise<Matrix> {
  if (isNormalized(m)) return m;
  const r = await normalize(m);
  if (r.zeroRows.length > 0) {
    const shown = Array.from(r.zeroRows.slice(0, 5), (i) => i + 1).join(', ');
    throw new InvalidArgumentError(name, `${r.zeroRows.length} all-zero row(s) (1-based: ${shown}${r.zeroRows.length > 5 ? ', ...' : ''}) have no direction`);
  }
  return r.vectors;
}

/**
 * Mine the corpus for positives with `options.method`, round by round, until a stop rule fires:
 * `rounds`, `maxQueries`, `maxQueryRatio` (default {@link DEFAULT_MAX_QUERY_RATIO} when no rule is
 * given), a round with no new positive, or a method with nothing left to propose.
 */
export async function mine(options: MineOptions): Promise<MineResult> {
  const started: Strategy[] = [];
  try {
    return await mineWith(options, started);
  } finally {
    for (const s of started) await s.close?.();
  }
}

async function mineWith(options: MineOptions, started: Strategy[]): Promise<MineResult> {
  if (!isMiningMethod(options.method)) {
    throw new InvalidArgumentError('method', `unknown method ${JSON.stringify(options.method)}; expected one of ${MINING_METHODS.join(', ')}`);
  }
  const engine = options.engine ?? 'local';
  if (engine !== 'local' && engine !== 'spark') throw new InvalidArgumentError('engine', `must be local or spark, got ${JSON.stringify(engine)}`);
  if (engine === 'spark' && options.method !== 'gble') {
    throw new InvalidArgumentError('engine', `spark runs the gble method only, not ${options.method}`);
  }
  const { corpus: rawCorpus, seeds: rawSeeds, oracle } = options;
  if (rawSeeds.dim !== rawCorpus.dim) {
    throw new InvalidArgumentError('seeds', `dimension ${rawSeeds.dim} differs from the corpus's ${rawCorpus.dim} (embed both with the same model)`);
  }
  const n = rawCorpus.rows;
  if (options.ids && options.ids.length !== n) {
    throw new InvalidArgumentError('ids', `has ${options.ids.length} entries for ${n} corpus rows`);
  }
  if (options.texts && options.texts.length !== n) {
    throw new InvalidArgumentError('texts', `has ${options.texts.length} entries for ${n} corpus rows`);
  }
  const params = resolveMethodParams(options, {}, defaultParamsFor(options.embedder, options.method));
  const rounds = positiveInt('rounds', options.rounds);
  const maxQueries = positiveInt('maxQueries', options.maxQueries);
  let ratio = options.maxQueryRatio;
  if (ratio !== undefined && (!Number.isFinite(ratio) || ratio <= 0 || ratio > 1)) {
    throw new InvalidArgumentError('maxQueryRatio', `must be in (0, 1], got ${ratio}`);
  }
  if (ratio === undefined && rounds === undefined && maxQueries === undefined) ratio = DEFAULT_MAX_QUERY_RATIO;
  const budget = Math.min(maxQueries ?? n, ratio === undefined ? n : Math.floor(ratio * n + 1e-9));
  const stopOnDry = options.stopWhenNoNewPositive ?? ['gble', 'ibg', 'bipartite'].includes(options.method);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError('seed', `must be an integer, got ${seed}`);

  const corpus = await normalized(rawCorpus, 'corpus');
  const seeds = await normalized(rawSeeds, 'seeds');
  const labels = new Int8Array(n);
  const positives: number[] = [];
  const state: {
    -readonly [K in keyof MiningState]: MiningState[K];
  } = {
    corpus,
    seeds,
    labels,
    positives,
    round: 1,
    previousPrecision: undefined,
    random: new Random(seed),
    signal: options.signal,
  };

  const strategy = engine === 'spark' ? createSparkGbleStrategy(params, options.spark) : createStrategy(options.method, params);
  started.push(strategy);
  const t0 = performance.now();
  await strategy.prepare?.(state);
  const timings = { prepare: (performance.now() - t0) / 1000, rounds: 0, oracle: 0 };

  const metrics: MetricsRow[] = [];
  const labeled: LabeledRow[] = [];
  let queried = 0;
  let found = 0;
  let stopReason = '';
  for (;;) {
    options.signal?.throwIfAborted();
    if (rounds !== undefined && state.round > rounds) {
      stopReason = `reached --rounds ${rounds}`;
      break;
    }
    if (queried >= budget) {
      stopReason = `reached the query budget (${budget} rows${ratio !== undefined ? `, ${(100 * budget / n).toFixed(2)}% of the corpus` : ''})`;
      break;
    }
    const tr = performance.now();
    const proposal = await strategy.propose(state);
    let rows = proposal.rows.filter((r) => labels[r] === 0);
    if (rows.length === 0) {
      stopReason = proposal.emptyReason ?? 'the method proposed no candidate';
      break;
    }
    const cut = rows.length > budget - queried;
    if (cut) rows = rows.slice(0, budget - queried);
    const items: OracleItem[] = Array.from(rows, (r) => ({
      row: r,
      id: options.ids ? options.ids[r] : String(r + 1),
      text: options.texts ? options.texts[r] : '',
    }));
    const to = performance.now();
    const answers = await oracle.label(items, { signal: options.signal });
    timings.oracle += (performance.now() - to) / 1000;
    if (answers.length !== items.length) {
      throw new InvalidArgumentError('oracle', `returned ${answers.length} labels for ${items.length} rows`);
    }
    let newPositives = 0;
    for (let i = 0; i < items.length; i++) {
      const r = items[i].row;
      labels[r] = answers[i] ? POSITIVE : NEGATIVE;
      if (answers[i]) {
        positives.push(r);
        newPositives++;
      }
      labeled.push({ row: r, id: items[i].id, text: items[i].text, label: answers[i], round: state.round });
    }
    queried += items.length;
    found += newPositives;
    const m = metricsRow(state.round, queried, found, n, oracle.totalPositives);
    metrics.push(m);
    const seconds = (performance.now() - tr) / 1000;
    timings.rounds += seconds;
    options.onRound?.({ metrics: m, rows, newPositives, cut, seconds });
    if (proposal.final) {
      stopReason = `${options.method} is one-shot: one round`;
      break;
    }
    if (stopOnDry && newPositives === 0) {
      stopReason = `round ${state.round} found no new positive`;
      break;
    }
    state.previousPrecision = newPositives / items.length;
    state.round++;
  }
  const notes = strategy.notes?.() ?? [];
  return { method: options.method, params, metrics, labeled, stopReason, timings, notes };
}
