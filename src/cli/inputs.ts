/**
 * What `mine` and `compare` share: read the corpus and the synthetic seeds, embed them (or read
 * precomputed vectors), build the oracle and select the seeds, each stage timed and reported on
 * stderr.
 */
import { resolveEmbedder } from '../embed/index';
import { InvalidArgumentError, SynapseError } from '../errors';
import { readTable, type TextTable } from '../io/table';
import { readVectors } from '../io/vectors';
import { bipartiteTopK, matrix, type Matrix } from '../kernels';
import { createColumnOracle, parseColumnOracleSpec } from '../oracle/ground-truth';
import { createHumanOracle } from '../oracle/human';
import { createLlmOracle, parseLlmOracleSpec } from '../oracle/llm';
import { createChatClient } from '../llm/chat';
import { promises as fsp } from 'node:fs';
import type { Oracle } from '../oracle/oracle';
import { selectAcsSeeds, selectRandomSeeds } from '../seeds/index';
import { stackRows } from '../strategies/strategy';
import { createProgressBar } from '../util/progress';

/** Flags shared by `mine` and `compare`. */
export interface InputFlags {
  corpus: string;
  textColumn: string;
  idColumn?: string;
  seeds: string;
  seedTextColumn?: string;
  seedSelection: 'random' | 'acs';
  numSeeds: number;
  coverage: number;
  embedder: string;
  corpusVectors?: string;
  seedVectors?: string;
  /** `column:NAME=VALUE`; optional only for commands that do not query (e.g. `theory`). */
  oracle?: string;
  seed: number;
  skipEmpty?: boolean;
  /** `--oracle llm:MODEL`: what counts as positive (a file), or `describe` (inline text). */
  rubric?: string;
  describe?: string;
  /** `--oracle llm:MODEL`: the chat API's base URL (default env OPENAI_BASE_URL). */
  llmBaseUrl?: string;
  /** `--oracle llm:MODEL`: send verdicts below this confidence to a person (the browser page). */
  reviewBelow?: number;
  cacheDir?: string;
  progress?: boolean;
}

/** The loaded inputs of a mining run. */
export interface MiningInputs {
  corpusTable: TextTable;
  seedTable: TextTable;
  corpus: Matrix;
  /** Every synthetic positive, embedded. */
  synthetic: Matrix;
  /** The selected seeds: rows of `synthetic`. */
  seedRows: Uint32Array;
  seeds: Matrix;
  /** ACS's threshold and coverage, when ACS selected the seeds. */
  acs?: { threshold: number; coverage: number; reachedCoverage: boolean };
  oracle: Oracle;
  /** Per corpus row, whether the oracle column says positive (when `--oracle` was given). */
  groundTruth?: boolean[];
  /** Embedder id, or `precomputed vectors`. */
  embedderId: string;
  timings: Record<string, number>;
}

/** Print one progress line on stderr. */
export type Say = (message: string) => void;

async function timed<T>(timings: Record<string, number>, stage: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + (performance.now() - t) / 1000;
  }
}

/** The inputs before seed selection. */
export type MiningData = Omit<MiningInputs, 'seedRows' | 'seeds' | 'acs'>;

/** Read, embed, build the oracle, select seeds. */
export async function loadMiningInputs(
  flags: InputFlags,
  say: Say,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<MiningInputs> {
  return pickSeeds(await loadMiningData(flags, say, stderr), flags, say);
}

/** Read the tables, embed them (or read their vectors), build the oracle. */
export async function loadMiningData(
  flags: InputFlags,
  say: Say,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<MiningData> {
  const timings: Record<string, number> = {};
  if ((flags.corpusVectors === undefined) !== (flags.seedVectors === undefined)) {
    throw new InvalidArgumentError(
      flags.corpusVectors === undefined ? '--corpus-vectors' : '--seed-vectors',
      'give both --corpus-vectors and --seed-vectors, or neither (then texts are embedded with --embedder)',
    );
  }
  const precomputed = flags.corpusVectors !== undefined;
  if (precomputed && flags.skipEmpty) {
    throw new InvalidArgumentError('--skip-empty', 'cannot be used with precomputed vectors (rows must line up with the vectors)');
  }
  const human = flags.oracle === 'human' || flags.oracle === 'human:tty';
  const llm = flags.oracle?.startsWith('llm:') ?? false;
  const oracleSpec = flags.oracle === undefined || human || llm ? undefined : parseColumnOracleSpec(flags.oracle, '--oracle');
  let llmOracle: Oracle | undefined;
  if (llm) {
    const { model } = parseLlmOracleSpec(flags.oracle as string);
    let rubric = flags.describe;
    if (flags.rubric !== undefined) {
      try {
        rubric = await fsp.readFile(flags.rubric, 'utf8');
      } catch (e) {
        throw new InvalidArgumentError('--rubric', `cannot read ${JSON.stringify(flags.rubric)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (rubric === undefined) throw new InvalidArgumentError('--rubric', '--oracle llm:MODEL needs --rubric FILE or --describe "TEXT" saying what counts as positive');
    llmOracle = createLlmOracle({
      client: createChatClient({ model, baseUrl: flags.llmBaseUrl }),
      rubric,
      cacheDir: flags.cacheDir,
      ...(flags.reviewBelow !== undefined ? { minConfidence: flags.reviewBelow, reviewer: createHumanOracle({ mode: 'browser' }) } : {}),
    });
  }

  say(`reading ${flags.corpus} and ${flags.seeds}`);
  const { corpusTable, seedTable } = await timed(timings, 'read', async () => ({
    corpusTable: await readTable(flags.corpus, {
      flag: '--corpus',
      textColumn: flags.textColumn,
      idColumn: flags.idColumn,
      extraColumns: oracleSpec ? [{ column: oracleSpec.column, flag: '--oracle' }] : [],
      emptyTexts: flags.skipEmpty ? 'skip' : 'error',
    }),
    seedTable: await readTable(flags.seeds, {
      flag: '--seeds',
      textColumn: flags.seedTextColumn ?? flags.textColumn,
      textFlag: flags.seedTextColumn !== undefined ? '--seed-text-column' : '--text-column (or --seed-text-column)',
      requireUniqueIds: false,
      emptyTexts: flags.skipEmpty ? 'skip' : 'error',
    }),
  }));
  for (const [t, what] of [
    [corpusTable, 'corpus'],
    [seedTable, 'seeds'],
  ] as const) {
    if (t.skipped.length > 0) {
      say(`skipped ${t.skipped.length} empty ${what} row(s): ${t.skipped.slice(0, 10).map((s) => s.row).join(', ')}${t.skipped.length > 10 ? ', ...' : ''}`);
    }
  }
  if (corpusTable.texts.length === 0) throw new InvalidArgumentError('--corpus', `${flags.corpus} has no rows`);
  if (seedTable.texts.length === 0) throw new InvalidArgumentError('--seeds', `${flags.seeds} has no seeds`);
  const oracle: Oracle = llmOracle
    ? llmOracle
    : human
    ? createHumanOracle({ mode: flags.oracle === 'human:tty' ? 'tty' : 'browser' })
    : oracleSpec
    ? createColumnOracle(corpusTable.extra[oracleSpec.column], oracleSpec, '--oracle')
    : {
        name: 'none',
        label: () => Promise.reject(new InvalidArgumentError('--oracle', 'is required to label candidates (column:NAME=VALUE)')),
      };
  const groundTruth = oracleSpec ? corpusTable.extra[oracleSpec.column].map((v) => v === oracleSpec.positiveValue) : undefined;

  let corpus: Matrix;
  let synthetic: Matrix;
  let embedderId: string;
  if (precomputed) {
    say(`reading vectors ${flags.corpusVectors} and ${flags.seedVectors}`);
    [corpus, synthetic] = await timed(timings, 'read vectors', async () => {
      const c = await readVectors(flags.corpusVectors as string, {
        flag: '--corpus-vectors',
        rows: corpusTable.texts.length,
        rowsLabel: `the corpus (--corpus ${flags.corpus})`,
      });
      const s = await readVectors(flags.seedVectors as string, {
        flag: '--seed-vectors',
        rows: seedTable.texts.length,
        rowsLabel: `the seeds (--seeds ${flags.seeds})`,
        dim: c.dim,
      });
      return [c, s] as const;
    });
    embedderId = 'precomputed vectors';
  } else {
    const embedder = await resolveEmbedder(flags.embedder, {
      argument: '--embedder',
      ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
    });
    embedderId = embedder.modelId;
    try {
      const embed = async (texts: string[], label: string): Promise<Matrix> => {
        const bar = createProgressBar(texts.length, { label, stream: stderr, force: Boolean(flags.progress) });
        try {
          const v = await embedder.embed(texts, { onProgress: (p) => bar.update(p.done) });
          return matrix(v, embedder.dim, label);
        } finally {
          bar.stop();
        }
      };
      say(`embedding ${corpusTable.texts.length} corpus rows and ${seedTable.texts.length} synthetic seeds with ${embedder.modelId}`);
      corpus = await timed(timings, 'embed', () => embed(corpusTable.texts, 'embedding corpus'));
      synthetic = await timed(timings, 'embed', () => embed(seedTable.texts, 'embedding seeds'));
    } finally {
      await embedder.close?.();
    }
  }

  return { corpusTable, seedTable, corpus, synthetic, oracle, groundTruth, embedderId, timings };
}

/** Select `--num-seeds` seeds from the synthetic set (random with `--seed`, or ACS). */
export async function pickSeeds(data: MiningData, flags: InputFlags, say: Say): Promise<MiningInputs> {
  const { synthetic } = data;
  const timings = { ...data.timings };
  const k = flags.numSeeds;
  let seedRows: Uint32Array;
  let acs: MiningInputs['acs'];
  if (flags.seedSelection === 'acs') {
    const r = await timed(timings, 'seed selection', () => selectAcsSeeds(synthetic, k, { coverage: flags.coverage }));
    seedRows = r.indices;
    acs = { threshold: r.threshold, coverage: r.coverage, reachedCoverage: r.reachedCoverage };
    say(
      `ACS picked ${seedRows.length} of ${synthetic.rows} synthetic seeds at t = ${r.threshold.toFixed(4)}, covering ${(100 * r.coverage).toFixed(1)}%` +
        (r.reachedCoverage ? '' : ` (short of --coverage ${flags.coverage} even at the lowest t)`),
    );
  } else {
    seedRows = selectRandomSeeds(synthetic.rows, k, flags.seed);
    say(`picked ${seedRows.length} of ${synthetic.rows} synthetic seeds at random (--seed ${flags.seed})`);
  }
  if (seedRows.length === 0) throw new SynapseError('no seeds were selected');
  const seeds = stackRows(synthetic, Array.from(seedRows));
  let oracle = data.oracle;
  if (flags.oracle === 'human' || flags.oracle === 'human:tty') {
    // The person sees each candidate's nearest seed and its similarity.
    await data.oracle.close?.();
    oracle = createHumanOracle({
      mode: flags.oracle === 'human:tty' ? 'tty' : 'browser',
      context: async (items) => {
        const g = await bipartiteTopK(stackRows(data.corpus, items.map((i) => i.row)), seeds, { k: 1 });
        return items.map((_, i) => ({
          nearestSeed: data.seedTable.texts[seedRows[g.ids[g.offsets[i]]]],
          similarity: g.sims[g.offsets[i]],
        }));
      },
    });
  }
  return { ...data, oracle, seedRows, seeds, acs, timings };
}
