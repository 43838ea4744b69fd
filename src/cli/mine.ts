/**
 * `synapse-g mine`: mine a corpus for positives from synthetic seeds with one method, writing
 * metrics.csv, labeled.csv, run.json, report.html and PNG plots into --out (all or nothing).
 */
import { Command, Option } from 'commander';
import * as path from 'node:path';
import { ANN_BACKENDS, GRAPH_INDEXES, type AnnBackend, type GraphIndex } from '../ann';
import { defaultParamsFor } from '../defaults';
import { estimateTheoryInputs, proposition1 } from '../theory';
import { promises as fsp } from 'node:fs';
import { InvalidArgumentError, SynapseError } from '../errors';
import { journaledOracle, openJournal, readJournal } from '../session/journal';
import type { LlmOracle } from '../oracle/llm';
import { DEFAULT_MAX_QUERY_RATIO, mine, resolveMethodParams, type MineResult, type RoundReport } from '../mine';
import { MINING_METHODS, type MethodParams, type MiningMethod } from '../strategies/index';
import { writeDirAtomic } from '../util/atomic';
import { createProgressBar, type ProgressBar } from '../util/progress';
import { DEFAULT_SPARK_MASTER } from '../engines/spark';
import { intFlag, numberFlag, positiveIntFlag } from './flags';
import { loadMiningInputs, type InputFlags, type MiningInputs, type Say } from './inputs';
import { formatMetricsTable, runParameters, writeLabeledCsv, writeMetricsCsv, writeRunSummary } from './outputs';

/** Method and stopping flags shared by `mine` and `compare`. */
export interface MethodFlags {
  tau?: number;
  dmax?: number;
  k0?: number;
  budget?: number;
  iterations?: number;
  negativeLabel?: number;
  index?: GraphIndex;
  annBackend?: AnnBackend;
  rounds?: number;
  maxQueryRatio?: number;
  maxQueries?: number;
  out: string;
  force?: boolean;
  quiet?: boolean;
  /** Continue the unfinished session of this output folder. */
  resume?: string;
}

/** Flags of `mine`. */
export interface MineFlags extends InputFlags, MethodFlags {
  method: MiningMethod;
  /** Where GBLE's graph and propagation run: `local` (default) or `spark`. */
  engine?: 'local' | 'spark';
  /** `--engine spark`: the Spark master URL (default `local[2]`). */
  master?: string;
}

/** The method parameters from flags over the embedder's defaults. */
export function methodParamsFromFlags(flags: MethodFlags, embedder: string | undefined, method: MiningMethod): MethodParams {
  const given: Partial<MethodParams> = {};
  for (const k of ['tau', 'dmax', 'k0', 'budget', 'iterations', 'negativeLabel'] as const) {
    if (flags[k] !== undefined) given[k] = flags[k];
  }
  if (flags.index !== undefined) given.index = flags.index;
  if (flags.annBackend !== undefined) given.annBackend = flags.annBackend;
  return resolveMethodParams(
    given,
    { tau: '--tau', dmax: '--dmax', k0: '--k0', budget: '--budget', iterations: '--iterations', negativeLabel: '--negative-label', index: '--index', annBackend: '--ann-backend' },
    defaultParamsFor(embedder, method),
  );
}

/**
 * Run one method over loaded inputs with a rounds progress bar. With `--engine spark` the Spark
 * job's graph bar comes first and the rounds bar starts with the first round.
 */
export async function runMethod(
  method: MiningMethod,
  inputs: MiningInputs,
  flags: MethodFlags & { seed: number; progress?: boolean; engine?: 'local' | 'spark'; master?: string },
  params: MethodParams,
  say: Say,
  stderr: NodeJS.WriteStream,
): Promise<MineResult> {
  const n = inputs.corpus.rows;
  const ratio = flags.maxQueryRatio ?? (flags.rounds === undefined && flags.maxQueries === undefined ? DEFAULT_MAX_QUERY_RATIO : 1);
  const budget = Math.min(flags.maxQueries ?? n, Math.floor(ratio * n + 1e-9));
  const force = Boolean(flags.progress);
  const spark = flags.engine === 'spark' ? { master: flags.master ?? DEFAULT_SPARK_MASTER, progress: { stream: stderr, force } } : undefined;
  const where = spark ? ` on Spark (master ${spark.master}; ` : ' (';
  say(`${method}: mining${where}τ ${params.tau}, d_max ${params.dmax}, K0 ${params.k0}; budget ${budget} queries)`);
  const roundsBar = () => createProgressBar(budget, { label: `${method} rounds`, unit: 'queries', stream: stderr, force });
  let bar: ProgressBar | undefined = spark ? undefined : roundsBar();
  try {
    return await mine({
      method,
      corpus: inputs.corpus,
      seeds: inputs.seeds,
      oracle: inputs.oracle,
      ids: inputs.corpusTable.ids,
      texts: inputs.corpusTable.texts,
      ...params,
      rounds: flags.rounds,
      maxQueries: flags.maxQueries,
      maxQueryRatio: flags.maxQueryRatio,
      seed: flags.seed,
      ...(spark ? { engine: 'spark' as const, spark } : {}),
      onRound: (r: RoundReport) => {
        bar ??= roundsBar();
        bar.update(r.metrics.queried);
      },
    });
  } finally {
    bar?.stop();
  }
}

/** The error when round 1 proposes nothing: nothing is written. */
export function nothingMinedError(method: string, result: MineResult): SynapseError {
  return new SynapseError(`${method} found no candidate to query: ${result.stopReason}. Nothing was written.`, 'NO_CANDIDATES');
}

/** Run `mine`; resolves to the output folder's files. */
/** Where the session journal of `--out DIR` lives while the run is unfinished: a hidden sibling. */
export function journalPath(out: string): string {
  const abs = path.resolve(out);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.journal.jsonl`);
}

/** The flags a session is resumed with: paths absolute, no per-invocation switches. */
function sessionFlags(flags: MineFlags): Record<string, unknown> {
  const saved: Record<string, unknown> = { ...flags };
  for (const k of ['resume', 'force', 'progress', 'quiet'] as const) delete saved[k];
  for (const k of ['corpus', 'seeds', 'corpusVectors', 'seedVectors', 'cacheDir', 'out'] as const) {
    if (typeof flags[k] === 'string') saved[k] = path.resolve(flags[k] as string);
  }
  return saved;
}

/**
 * Run `mine`; resolves to the result and the report's path. Every oracle answer is journaled
 * (fsynced) before mining goes on; `--resume DIR` continues a run that was killed, asking no
 * answered query again.
 */
export async function runMine(
  given: MineFlags,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<{ result: MineResult; report: string }> {
  let flags = given;
  const resume = given.resume !== undefined;
  if (resume) {
    const saved = (await readJournal(journalPath(given.resume as string))).params as unknown as MineFlags;
    flags = { ...saved, out: given.resume as string, resume: given.resume, progress: given.progress, quiet: given.quiet };
  }
  const say: Say = (m) => {
    if (!flags.quiet) stderr.write(`synapse-g: ${m}\n`);
  };
  const jp = journalPath(flags.out);
  if (!resume) {
    const stale = await fsp.stat(jp).then(() => true, () => false);
    if (stale && !flags.force) {
      throw new InvalidArgumentError('--out', `an unfinished session for ${JSON.stringify(flags.out)} exists (${jp}); continue it with --resume ${flags.out}, or pass --force to start over`);
    }
    if (stale) await fsp.rm(jp, { force: true });
  }
  if (flags.engine === 'spark' && flags.method !== 'gble') {
    throw new InvalidArgumentError('--engine', `spark runs only --method gble, not --method ${flags.method}`);
  }
  if (flags.master !== undefined && flags.engine !== 'spark') throw new InvalidArgumentError('--master', 'applies only with --engine spark');
  if (flags.engine === 'spark' && (flags.index ?? 'exact') !== 'exact') {
    throw new InvalidArgumentError('--index', `${flags.index} is for --engine local; --engine spark builds the exact graph`);
  }
  const params = methodParamsFromFlags(flags, flags.corpusVectors !== undefined ? undefined : flags.embedder, flags.method);
  return writeDirAtomic(
    flags.out,
    async (dir) => {
      const loaded = await loadMiningInputs(flags, say, stderr);
      const journal = await openJournal(jp, sessionFlags(flags), resume);
      if (resume) say(`resuming: ${journal.answers.size} oracle answers come from the journal (${jp})`);
      const inputs = { ...loaded, oracle: journaledOracle(loaded.oracle, journal) };
      let result: MineResult;
      try {
        result = await runMethod(flags.method, inputs, flags, params, say, stderr);
        await loaded.oracle.close?.();
      } catch (e) {
        await loaded.oracle.close?.();
        await journal.close();
        if (journal.answers.size === 0) await fsp.rm(jp, { force: true });
        else say(`the ${journal.answers.size} oracle answers so far are kept; continue with --resume ${flags.out}`);
        throw e;
      }
      await journal.close();
      if (result.metrics.length === 0) {
        await fsp.rm(jp, { force: true });
        throw nothingMinedError(flags.method, result);
      }
      say(`${flags.method}: stopped: ${result.stopReason}`);
      await writeMetricsCsv(path.join(dir, 'metrics.csv'), result.metrics);
      await writeLabeledCsv(path.join(dir, 'labeled.csv'), inputs, result);
      const parameters = { ...runParameters({ ...flags, ...params }, inputs), 'stop reason': result.stopReason };
      const timings = { ...inputs.timings, prepare: result.timings.prepare, rounds: result.timings.rounds };
      const theory = await theoryNote(inputs, params);
      const oracleStats = (loaded.oracle as Partial<LlmOracle>).stats?.();
      if (oracleStats) {
        result.notes.push(
          `LLM oracle: ${oracleStats.requests} requests, ${oracleStats.promptTokens} prompt + ${oracleStats.completionTokens} completion tokens, ` +
            `${oracleStats.cacheHits} verdicts from the cache, ${oracleStats.malformed} malformed answers asked again, ${oracleStats.lowConfidence.length} low-confidence verdicts (${oracleStats.reviewed} decided by a person)` +
            (oracleStats.lowConfidence.length ? ` (ids: ${oracleStats.lowConfidence.slice(0, 20).join(', ')})` : ''),
        );
      }
      await writeRunSummary(
        dir,
        `synapse-g mine: ${flags.method} on ${path.basename(flags.corpus)}`,
        parameters,
        timings,
        [result],
        [{ label: `${flags.method} (${flags.seedSelection} seeds)`, rows: result.metrics }],
        [...result.notes, ...(theory ? [theory] : [])],
      );
      // The journal travels with the finished outputs (an audit trail of every answer).
      await fsp.rename(jp, path.join(dir, 'journal.jsonl'));
      const report = path.join(path.resolve(flags.out), 'report.html');
      stdout.write(`${formatMetricsTable(result.metrics)}\n\nreport: ${report}\n`);
      return { result, report };
    },
    { replace: flags.force || resume, flag: '--out' },
  );
}

/** Proposition 1's expectation for one seed → neighbour round beside what this corpus shows. */
export async function theoryNote(inputs: MiningInputs, params: MethodParams): Promise<string | undefined> {
  if (!inputs.groundTruth) return undefined;
  const est = await estimateTheoryInputs(inputs.corpus, inputs.seeds, { tau: params.tau, dmax: params.dmax, labels: inputs.groundTruth });
  if (est.q1 === undefined || est.measuredPrecision === undefined) return undefined;
  const q2 = est.q2 ?? 2 * est.q1 - est.q1 * est.q1;
  const r = proposition1({ p: 1, q1: est.q1, q2, d: est.d, h: est.h, seeds: inputs.seeds.rows, vertices: inputs.corpus.rows });
  return (
    `Theory (Proposition 1, one round querying the seeds' neighbours at τ ${params.tau}, d_max ${params.dmax}; p = 1, ` +
    `q1 = ${est.q1.toFixed(3)}, q2 = ${q2.toFixed(3)}, d = ${est.d.toFixed(1)}, h(S+) = ${est.h.toFixed(2)}): expected precision ${r.precision.toFixed(3)}; ` +
    `measured on this corpus ${est.measuredPrecision.toFixed(3)} (${est.adjacentToTwoOrMore} rows touch two or more seeds, which the model's limited-overlap assumption rules out). ` +
    `See \`synapse-g theory\`.`
  );
}

/** The input flags of `mine` and `compare`. */
export function addInputOptions(cmd: Command, required = true): Command {
  const need = (flags: string, desc: string): Command => (required ? cmd.requiredOption(flags, desc) : cmd.option(flags, `${desc} (required)`));
  need('--corpus <file>', 'unlabeled corpus: .csv, .tsv or .jsonl');
  need('--text-column <name>', 'column (or JSON field) holding the texts');
  need('--seeds <file>', 'LLM-written positives: .csv, .tsv, .jsonl or .txt (one per line)');
  need('--oracle <spec>', 'column:NAME=VALUE (a corpus column, positive where it equals VALUE), llm:MODEL (an OpenAI-compatible chat model with --rubric), human (a browser page on 127.0.0.1) or human:tty (the terminal)');
  return cmd
    .option('--id-column <name>', 'column holding unique row ids (default: 1-based row numbers)')
    .option('--seed-text-column <name>', 'text column of --seeds (default: --text-column)')
    .addOption(new Option('--seed-selection <how>', 'how seeds are picked from --seeds').choices(['random', 'acs']).default('random'))
    .option('--num-seeds <n>', 'seeds to pick', positiveIntFlag('--num-seeds'), 100)
    .option('--coverage <c>', 'ACS: portion of the synthetic set the seeds must cover', numberFlag('--coverage', 0, 1, true), 0.5)
    .option('--embedder <spec>', 'default | hf:DIR | openai:MODEL', 'default')
    .option('--corpus-vectors <file>', 'precomputed corpus vectors (.npy, .f32 not supported here, .jsonl with "embedding")')
    .option('--seed-vectors <file>', 'precomputed vectors of every row of --seeds')
    .option('--seed <int>', 'random seed: the same seed gives the same result', intFlag('--seed'), 0)
    .option('--rubric <file>', '--oracle llm:MODEL: a file saying what counts as positive')
    .option('--describe <text>', '--oracle llm:MODEL: the rubric inline')
    .option('--review-below <confidence>', '--oracle llm:MODEL: verdicts below this confidence go to a person (a labeling page on 127.0.0.1)', numberFlag('--review-below', 0, 1))
    .option('--llm-base-url <url>', '--oracle llm:MODEL: OpenAI-compatible base URL (default $OPENAI_BASE_URL; key from $OPENAI_API_KEY)')
    .option('--skip-empty', 'skip rows with empty text (listed on stderr) instead of failing')
    .option('--cache-dir <dir>', 'embedding cache root (default: $SYNAPSE_G_CACHE_DIR or ~/.cache/synapse-g)')
    .option('--progress', 'draw progress bars even when stderr is not a terminal');
}

/** The method and output flags of `mine` and `compare`. */
export function addMethodOptions(cmd: Command, required = true): Command {
  if (required) cmd.requiredOption('--out <dir>', 'output folder (must not exist or be empty; written all at once)');
  else cmd.option('--out <dir>', 'output folder (must not exist or be empty; written all at once) (required)');
  return cmd
    .option('--tau <t>', 'similarity threshold τ of the graph (default: per embedder)', numberFlag('--tau', -1, 1))
    .option('--dmax <n>', 'neighbours per node d_max (default: per embedder)', positiveIntFlag('--dmax'))
    .option('--k0 <n>', 'GBLE/LR: target positives a round (K = K0 / p_prev); baselines: rows a round', positiveIntFlag('--k0'))
    .option('--budget <n>', 'LR baseline: unlabeled rows scored a round, B (default: all)', positiveIntFlag('--budget'))
    .option('--iterations <n>', 'GBLE: propagation steps a round', positiveIntFlag('--iterations'))
    .option('--negative-label <v>', 'GBLE: value negatives are clamped to, in [-1, 0]', numberFlag('--negative-label', -1, 0))
    .addOption(new Option('--index <kind>', 'GBLE/auto corpus graph: exact (blocked GEMM), or approximate hnsw or ivf (see --ann-backend)').choices([...GRAPH_INDEXES]))
    .addOption(new Option('--ann-backend <lib>', 'library of --index hnsw|ivf: usearch (optional npm package; hnsw only) or faiss (bash scripts/setup-faiss.sh; hnsw and ivf). Default: usearch for hnsw, faiss for ivf').choices([...ANN_BACKENDS]))
    .option('--rounds <n>', 'stop after N rounds', positiveIntFlag('--rounds'))
    .option('--max-query-ratio <r>', 'stop once this share of the corpus is queried (default 0.1 when no stop flag is given)', numberFlag('--max-query-ratio', 0, 1, true))
    .option('--max-queries <n>', 'stop once N rows are queried', positiveIntFlag('--max-queries'))
    .option('--force', 'replace --out if it exists')
    .option('--quiet', 'no stage messages on stderr');
}

/** Register `label`: continue a session whose oracle is a person (`mine --oracle human`). */
export function registerLabel(program: Command): void {
  program
    .command('label')
    .description('Label the candidates of a mining session in the browser (or terminal): continues `mine --oracle human` after a stop or a crash, with nothing asked twice.')
    .requiredOption('--session <dir>', 'the --out folder of the unfinished `mine --oracle human` run')
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .action(async (opts: { session: string; progress?: boolean }) => {
      await runMine({ resume: opts.session, progress: opts.progress } as MineFlags);
    });
}

/** Register `mine` on `program`. */
export function registerMine(program: Command): void {
  const cmd = program
    .command('mine')
    .description('Mine an unlabeled corpus for positives from LLM-written seeds, with one method.');
  addInputOptions(cmd, false);
  cmd.addOption(new Option('--method <name>', 'mining method (auto: graph + classifier, combined by a bandit)').choices([...MINING_METHODS]).default('auto'));
  cmd.option('--resume <dir>', 'continue the unfinished (killed) run whose --out was DIR, with its original flags');
  cmd.addOption(new Option('--engine <name>', 'gble: where the graph and propagation run: local (default: the Rust kernels) or spark (an Apache Spark application; bash scripts/setup-spark.sh)').choices(['local', 'spark']));
  cmd.option('--master <url>', `--engine spark: Spark master URL, e.g. ${DEFAULT_SPARK_MASTER} (default), spark://host:7077 or yarn`);
  addMethodOptions(cmd, false).action(async (opts: MineFlags) => {
    if (opts.resume === undefined) {
      for (const [key, flag] of [['corpus', '--corpus'], ['textColumn', '--text-column'], ['seeds', '--seeds'], ['oracle', '--oracle'], ['out', '--out']] as const) {
        if (opts[key] === undefined) throw new InvalidArgumentError(flag, 'is required (or continue a killed run with --resume DIR)');
      }
    }
    await runMine(opts);
  });
}
