/**
 * GBLE on Apache Spark (`synapse-g mine --method gble --engine spark --master URL`): the graph
 * build and the propagation of every round run as a Spark application (spark/synapse_spark.py),
 * while the rounds, the adaptive K, the stop rules and the oracle stay here.
 *
 * One Spark application serves a whole mining session (its `session` subcommand): it builds the
 * graph once (the seed step with the seeds broadcast, the corpus kNN graph by blocked all-pairs,
 * symmetrised), keeps it cached as CSR row blocks, and answers one propagation request per round.
 * A JVM start costs seconds, so a job per round would cost more than the propagation itself.
 *
 * Exchange with the job, all in a work folder (`SparkEngineOptions.workDir`):
 * - inputs: Parquet shards of `(id int32, vector binary)`, a vector being its float32 values,
 *   little-endian. They are written with hyparquet-writer (pure JavaScript, no native code, from
 *   the npm registry). Vectors go as one binary value per row, not as a Parquet list: the list
 *   encoding was 40 times slower to write and 5 times larger, and numpy reads the bytes directly.
 * - requests: `control/request-NNNNN.json` (labeled rows, iterations, negative label), written
 *   atomically; the job polls the folder, since spark-submit gives the Python driver no stdin.
 * - results: `control/scores-NNNNN.parquet` (one float32 column `score` per corpus row), read with
 *   hyparquet; the graph's counts in `control/graph.json`.
 * - the job's stdout: `progress stage=S done=D total=T`, `ready stats=...`, `done request=N`,
 *   `failed request=N message=...`, followed here (a progress bar for the graph stage).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, SynapseError } from '../errors';
import type { CsrGraph, Matrix } from '../kernels';
import { gbleProposal, type GbleParams } from '../strategies/gble';
import { NEGATIVE, POSITIVE, type MiningState, type Proposal, type Strategy } from '../strategies/strategy';
import { createProgressBar, type ProgressBar } from '../util/progress';

/** The master `--engine spark` uses when `--master` is not given. */
export const DEFAULT_SPARK_MASTER = 'local[2]';

/** The package's root folder (src/engines or dist/engines, two levels up). */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The PySpark job. */
export const SPARK_JOB = path.join(PACKAGE_ROOT, 'spark', 'synapse_spark.py');

const SETUP_HINT = 'install it with: bash scripts/setup-spark.sh (a Python venv at .venv-spark with pyspark; Spark also needs Java 17)';

/** Options of the Spark engine. */
export interface SparkEngineOptions {
  /** Spark master URL: `local[2]` (default), `spark://host:7077`, `yarn`, ... */
  master?: string;
  /**
   * Python venv holding pyspark (its `bin/spark-submit` and `bin/python` are used). Default:
   * `$SYNAPSE_G_SPARK_VENV`, else `.venv-spark` in the package root (scripts/setup-spark.sh).
   * Without one, `$SPARK_HOME/bin/spark-submit` or `spark-submit` on PATH.
   */
  venv?: string;
  /**
   * Folder for the input shards, the graph and the requests (a fresh sub-folder is made in it and
   * removed at the end). On a cluster it must be shared storage mounted at the same path on the
   * driver and every executor. Default: `$SYNAPSE_G_SPARK_WORK_DIR`, else the OS temp folder.
   */
  workDir?: string;
  /** Extra spark-submit arguments (before the job), e.g. `--executor-memory 8g`. Default: `$SYNAPSE_G_SPARK_SUBMIT_ARGS` split on spaces. */
  submitArgs?: readonly string[];
  /** Corpus rows per block of the all-pairs pass. Default 4096. */
  blockRows?: number;
  /** Rows per input Parquet shard. Default 65536. */
  shardRows?: number;
  /** Also export the graph for {@link SparkGbleSession.readGraph} (collected on the driver: small graphs, tests). */
  exportGraph?: boolean;
  /** Draw the graph stage's progress bar here (see createProgressBar). Default: no bar. */
  progress?: { stream?: NodeJS.WriteStream; force?: boolean };
  /** Keep the work folder (for inspection). Default false. */
  keepWorkDir?: boolean;
  /** Every line the job prints (stdout and stderr), e.g. for logs. */
  onOutput?: (line: string) => void;
  /** Cancels the start (the graph build): the application is killed. */
  signal?: AbortSignal;
}

/** The graph's counts, from the job. */
export interface SparkGraphStats {
  corpus_rows: number;
  seeds: number;
  /** Directed edges (each undirected edge twice). */
  edges: number;
  /** Corpus rows without an edge. */
  isolated: number;
  seeds_without_edge: number;
  blocks: number;
}

type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });
type HyparquetWriter = typeof import('hyparquet-writer', { with: { 'resolution-mode': 'import' } });
// Both packages are ES modules: loaded with import(), once, when the engine is first used.
let hyparquet: Promise<Hyparquet> | undefined;
let hyparquetWriter: Promise<HyparquetWriter> | undefined;
const loadHyparquet = (): Promise<Hyparquet> => (hyparquet ??= import('hyparquet'));
const loadWriter = (): Promise<HyparquetWriter> => (hyparquetWriter ??= import('hyparquet-writer'));

/**
 * Write `m` as Parquet shards `part-NNNNN.parquet` of `(id int32, vector binary)` into `dir`
 * (ids `0..rows-1`, vectors as float32 little-endian bytes).
 */
export async function writeMatrixShards(dir: string, m: Matrix, shardRows = 65536): Promise<number> {
  if (os.endianness() !== 'LE') throw new SynapseError('the Spark engine writes float32 vectors as little-endian bytes: this machine is big-endian', 'UNAVAILABLE');
  const { parquetWriteFile } = await loadWriter();
  await fsp.mkdir(dir, { recursive: true });
  const rowBytes = m.dim * 4;
  let shards = 0;
  for (let a = 0; a < m.rows || (a === 0 && shards === 0); a += shardRows) {
    const b = Math.min(m.rows, a + shardRows);
    const ids = new Int32Array(b - a);
    const vectors = Array.from({ length: b - a }, (_, r) => new Uint8Array(m.data.buffer, m.data.byteOffset + (a + r) * rowBytes, rowBytes));
    for (let i = a; i < b; i++) ids[i - a] = i;
    parquetWriteFile({
      filename: path.join(dir, `part-${String(shards).padStart(5, '0')}.parquet`),
      columnData: [
        { name: 'id', data: ids, type: 'INT32', nullable: false },
        { name: 'vector', data: vectors, type: 'BYTE_ARRAY', nullable: false, encoding: 'PLAIN' },
      ],
      codec: 'UNCOMPRESSED', // float noise does not compress
      statistics: false,
      rowGroupSize: 16384,
    });
    shards++;
    if (m.rows === 0) break;
  }
  return shards;
}

/** Read a numeric column of a local Parquet file into a fresh typed array. */
async function readColumns(file: string, columns: readonly string[], rows: number): Promise<Float64Array[]> {
  const { parquetRead, asyncBufferFromFile } = await loadHyparquet();
  const out = columns.map(() => new Float64Array(rows));
  await parquetRead({
    file: await asyncBufferFromFile(file),
    columns: [...columns],
    onChunk: (c) => {
      const target = out[columns.indexOf(c.columnName)];
      if (!target) return;
      const data = c.columnData as ArrayLike<number | bigint>;
      for (let i = 0; i < data.length; i++) {
        const r = c.rowStart + i;
        if (r < rows) target[r] = Number(data[i]);
      }
    },
  });
  return out;
}

interface Launcher {
  submit: string;
  env: NodeJS.ProcessEnv;
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/** spark-submit and its environment, or a clear error naming the setup script. */
export function findSparkSubmit(options: Pick<SparkEngineOptions, 'venv'> = {}): Launcher {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  const javaHome = process.env.JAVA_HOME;
  if (!(javaHome && existsSync(path.join(javaHome, 'bin', 'java'))) && !onPath('java')) {
    throw new SynapseError(`--engine spark: Java was not found (no java on PATH, no $JAVA_HOME); Spark needs Java 17. ${SETUP_HINT}`, 'SPARK_UNAVAILABLE');
  }
  const venv = path.resolve(options.venv ?? process.env.SYNAPSE_G_SPARK_VENV ?? path.join(PACKAGE_ROOT, '.venv-spark'));
  const venvSubmit = path.join(venv, 'bin', 'spark-submit');
  if (existsSync(venvSubmit)) {
    const bin = path.join(venv, 'bin');
    env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
    // The driver's Python is the venv's; executors on a cluster may need their own (set
    // PYSPARK_PYTHON, or spark.pyspark.python, to a Python with pyspark and numpy there).
    env.PYSPARK_DRIVER_PYTHON = path.join(bin, 'python');
    env.PYSPARK_PYTHON ??= path.join(bin, 'python');
    delete env.SPARK_HOME; // the venv's pyspark is its own Spark home
    return { submit: venvSubmit, env };
  }
  if (process.env.SPARK_HOME && existsSync(path.join(process.env.SPARK_HOME, 'bin', 'spark-submit'))) {
    return { submit: path.join(process.env.SPARK_HOME, 'bin', 'spark-submit'), env };
  }
  const found = onPath('spark-submit');
  if (found) return { submit: found, env };
  throw new SynapseError(`--engine spark: pyspark was not found (no ${venvSubmit}, no $SPARK_HOME, no spark-submit on PATH); ${SETUP_HINT}`, 'SPARK_UNAVAILABLE');
}

/** The error for a job that ended badly, with what it printed last. */
function jobError(what: string, code: number | null, signal: NodeJS.Signals | null, tail: readonly string[]): SynapseError {
  const text = tail.join('\n');
  if (/No module named '?(pyspark|numpy|pyarrow)/.test(text)) {
    return new SynapseError(`--engine spark: ${what} failed: the job's Python lacks pyspark, numpy or pyarrow; ${SETUP_HINT}\n${text}`, 'SPARK_UNAVAILABLE');
  }
  if (/JAVA_HOME is not set|java: (command )?not found|UnsupportedClassVersionError/.test(text)) {
    return new SynapseError(`--engine spark: ${what} failed: Spark needs Java 17; ${SETUP_HINT}\n${text}`, 'SPARK_UNAVAILABLE');
  }
  const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
  return new SynapseError(`--engine spark: ${what} failed (${how}); the job's last lines:\n${text}`, 'SPARK_FAILED');
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Kill the job's whole process group (spark-submit's JVM and its Python driver). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * A running Spark application holding GBLE's graph over one corpus and seed set: start it with
 * {@link SparkGbleSession.start}, call {@link propagate} once per round, {@link close} at the end.
 */
export class SparkGbleSession {
  private readonly pending = new Map<string, Pending>();
  private requests = 0;
  private closed = false;
  private exitHook: (() => void) | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly work: string,
    private readonly keep: boolean,
    /** The graph's counts. */
    readonly stats: SparkGraphStats,
    private readonly exportFile: string | undefined,
    private readonly corpusRows: number,
    private readonly seeds: number,
    private readonly exited: Promise<void>,
  ) {}

  /** Write the inputs, start the application and wait until its graph is built. */
  static async start(corpus: Matrix, seeds: Matrix, params: Pick<GbleParams, 'tau' | 'dmax'>, options: SparkEngineOptions = {}): Promise<SparkGbleSession> {
    if (seeds.dim !== corpus.dim) throw new InvalidArgumentError('seeds', `dimension ${seeds.dim} differs from the corpus's ${corpus.dim}`);
    const blockRows = options.blockRows ?? 4096;
    if (!Number.isInteger(blockRows) || blockRows <= 0) throw new InvalidArgumentError('blockRows', `must be a positive integer, got ${blockRows}`);
    const launcher = findSparkSubmit(options);
    if (!existsSync(SPARK_JOB)) throw new SynapseError(`--engine spark: the job ${SPARK_JOB} is missing from this installation`, 'SPARK_UNAVAILABLE');
    const root = path.resolve(options.workDir ?? process.env.SYNAPSE_G_SPARK_WORK_DIR ?? os.tmpdir());
    await fsp.mkdir(root, { recursive: true });
    const work = await fsp.mkdtemp(path.join(root, 'synapse-g-spark-'));
    const keep = options.keepWorkDir ?? false;
    try {
      const control = path.join(work, 'control');
      await fsp.mkdir(control);
      await writeMatrixShards(path.join(work, 'corpus'), corpus, options.shardRows);
      await writeMatrixShards(path.join(work, 'seeds'), seeds, options.shardRows);
      const uri = (p: string) => pathToFileURL(path.join(work, p)).href;
      const exportFile = options.exportGraph ? path.join(work, 'graph-export.parquet') : undefined;
      const master = options.master ?? DEFAULT_SPARK_MASTER;
      const extra = options.submitArgs ?? (process.env.SYNAPSE_G_SPARK_SUBMIT_ARGS ?? '').split(/\s+/).filter(Boolean);
      const args = [
        '--master', master,
        // On one machine: no web UI, and a JVM tuned for starting fast (C1 only, serial GC); the
        // heavy work is numpy in the Python workers.
        ...(master.startsWith('local') ? ['--conf', 'spark.ui.enabled=false'] : []),
        ...(master.startsWith('local') && !extra.includes('--driver-java-options') ? ['--driver-java-options', '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'] : []),
        ...extra,
        SPARK_JOB, 'session',
        '--corpus', uri('corpus'), '--seeds', uri('seeds'), '--graph', uri('graph'),
        '--dmax', String(params.dmax), '--tau', String(params.tau), '--block-rows', String(blockRows),
        // No idle timeout: a person may take hours over a round; the job ends with this process.
        '--control', control, '--owner-pid', String(process.pid), '--idle-timeout', '0',
        ...(exportFile ? ['--export', exportFile] : []),
      ];
      const child = spawn(launcher.submit, args, { cwd: work, env: launcher.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const tail: string[] = [];
      let bar: ProgressBar | undefined;
      let onReady: ((stats: SparkGraphStats) => void) | undefined;
      let session: SparkGbleSession | undefined;
      const ready = new Promise<SparkGraphStats>((resolve) => (onReady = resolve));
      const line = (l: string): void => {
        options.onOutput?.(l);
        tail.push(l);
        if (tail.length > 40) tail.shift();
        const p = /^progress stage=(\w+) done=(\d+) total=(\d+)$/.exec(l);
        if (p) {
          if (p[1] === 'graph' && options.progress) {
            bar ??= createProgressBar(Number(p[3]), { label: 'spark graph', unit: 'block pairs', ...options.progress });
            bar.update(Number(p[2]), Number(p[3]));
            if (p[2] === p[3]) bar.stop();
          }
          return;
        }
        const r = /^ready stats=(.*)$/.exec(l);
        if (r) {
          onReady?.(JSON.parse(r[1]) as SparkGraphStats);
          return;
        }
        const d = /^(done|failed) request=(\S+)(?: message=(.*))?$/.exec(l);
        if (d && session) {
          const waiter = session.pending.get(d[2]);
          session.pending.delete(d[2]);
          if (d[1] === 'done') waiter?.resolve();
          else waiter?.reject(new SynapseError(`--engine spark: propagation failed: ${d[3] ? (JSON.parse(d[3]) as string) : 'no message'}\n${tail.join('\n')}`, 'SPARK_FAILED'));
        }
      };
      readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line);
      readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', line);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('error', (e) => {
          tail.push(String(e));
          resolve({ code: null, signal: null });
        });
        child.on('close', (code, signal) => resolve({ code, signal }));
      });
      const hook = (): void => killGroup(child);
      process.once('exit', hook);
      options.signal?.addEventListener('abort', hook, { once: true });
      if (options.signal?.aborted) hook();
      const first = await Promise.race([ready.then((stats) => ({ stats })), exited.then((e) => ({ exit: e }))]);
      options.signal?.removeEventListener('abort', hook);
      bar?.stop();
      if (options.signal?.aborted) {
        process.removeListener('exit', hook);
        killGroup(child);
        await exited;
        options.signal.throwIfAborted();
      }
      if (!('stats' in first)) {
        process.removeListener('exit', hook);
        throw jobError('the graph job', first.exit.code, first.exit.signal, tail);
      }
      session = new SparkGbleSession(child, work, keep, first.stats, exportFile, corpus.rows, seeds.rows, exited.then(() => undefined));
      session.exitHook = hook;
      const s = session;
      void exited.then((e) => {
        const err = s.closed ? new SynapseError('--engine spark: the session was closed', 'SPARK_FAILED') : jobError('the Spark session', e.code, e.signal, tail);
        for (const w of s.pending.values()) w.reject(err);
        s.pending.clear();
      });
      return session;
    } catch (e) {
      if (!keep) await fsp.rm(work, { recursive: true, force: true });
      throw e;
    }
  }

  /** The graph as CSR (nodes `0..N-1` corpus, `N..N+S-1` seeds; rows by similarity, ties by id). Needs `exportGraph`. */
  async readGraph(): Promise<CsrGraph> {
    if (!this.exportFile) throw new InvalidArgumentError('exportGraph', 'readGraph() needs the session started with exportGraph: true');
    const m = this.stats.edges;
    const [src, dst, sim] = await readColumns(this.exportFile, ['src', 'dst', 'sim'], m);
    const nodes = this.corpusRows + this.seeds;
    const offsets = new Uint32Array(nodes + 1);
    for (let e = 0; e < m; e++) offsets[src[e] + 1]++;
    for (let i = 0; i < nodes; i++) offsets[i + 1] += offsets[i];
    // The export is sorted by (src, sim desc, dst): rows come out in order.
    return { offsets, ids: Uint32Array.from(dst), sims: Float32Array.from(sim) };
  }

  /**
   * One round of Algorithm 3: seeds and `POSITIVE` rows clamped to 1, `NEGATIVE` rows to
   * `negativeLabel`, `iterations` steps; resolves to the corpus rows' scores.
   */
  async propagate(labels: Int8Array, params: Pick<GbleParams, 'iterations' | 'negativeLabel'>): Promise<Float32Array> {
    if (this.closed) throw new SynapseError('--engine spark: the session is closed', 'SPARK_FAILED');
    if (labels.length !== this.corpusRows) throw new InvalidArgumentError('labels', `has ${labels.length} entries for ${this.corpusRows} corpus rows`);
    const positives: number[] = [];
    const negatives: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === POSITIVE) positives.push(i);
      else if (labels[i] === NEGATIVE) negatives.push(i);
    }
    const id = String(++this.requests).padStart(5, '0');
    const control = path.join(this.work, 'control');
    const scores = path.join(control, `scores-${id}.parquet`);
    const body = { corpus_rows: this.corpusRows, seeds: this.seeds, positives, negatives, negative_label: params.negativeLabel, iterations: params.iterations, scores };
    const answered = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const tmp = path.join(control, `.request-${id}.json.tmp`);
    await fsp.writeFile(tmp, JSON.stringify(body));
    await fsp.rename(tmp, path.join(control, `request-${id}.json`));
    await answered;
    const [s] = await readColumns(scores, ['score'], this.corpusRows);
    await fsp.rm(scores, { force: true });
    return Float32Array.from(s);
  }

  /** Stop the application (politely, then by signal) and remove the work folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    const control = path.join(this.work, 'control');
    await fsp.writeFile(path.join(control, 'request-99999-stop.json'), '{"op":"stop"}').catch(() => undefined);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000).unref());
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
      killGroup(this.child);
      await this.exited;
    }
    if (!this.keep) await fsp.rm(this.work, { recursive: true, force: true });
  }
}

/**
 * GBLE with the Spark engine: the same Strategy as createGbleStrategy (same adaptive K, same
 * candidate order, same stop rules), with the graph and the propagation in Spark. The session
 * starts in `prepare` and ends in `close` (the mining loop calls both).
 */
export function createSparkGbleStrategy(params: GbleParams, options: SparkEngineOptions = {}): Strategy {
  if ((params.index ?? 'exact') !== 'exact') {
    throw new InvalidArgumentError('index', `the Spark engine builds the exact graph (blocked all-pairs); --index ${params.index} is for --engine local`);
  }
  let session: SparkGbleSession | undefined;
  return {
    name: 'gble',
    async prepare(state: MiningState): Promise<void> {
      session = await SparkGbleSession.start(state.corpus, state.seeds, params, { ...options, signal: options.signal ?? state.signal });
    },
    notes(): string[] {
      if (!session) return [];
      const s = session.stats;
      return [
        `GBLE graph: ${s.edges} directed edges (symmetric), ${s.isolated} corpus rows and ${s.seeds_without_edge} seeds without an edge above tau = ${params.tau}`,
        `GBLE ran on Spark (master ${options.master ?? DEFAULT_SPARK_MASTER}; the all-pairs pass in ${s.blocks} row blocks)`,
      ];
    },
    async propose(state: MiningState): Promise<Proposal> {
      if (!session) throw new Error('gble (spark): prepare() was not called');
      const corpusScores = await session.propagate(state.labels, params);
      return gbleProposal(corpusScores, state, params);
    },
    async close(): Promise<void> {
      await session?.close();
    },
  };
}
