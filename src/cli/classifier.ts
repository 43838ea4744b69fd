/**
 * `synapse-g train`: the rare-event classifier from a mining run's labeled set.
 * `synapse-g predict`: score new texts with it.
 */
import { Command } from 'commander';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { loadClassifier, saveClassifier, trainClassifier } from '../classifier/model';
import { resolveEmbedder } from '../embed/index';
import { InvalidArgumentError } from '../errors';
import { readTable, writeCsv } from '../io/table';
import { matrix } from '../kernels';
import { writeDirAtomic } from '../util/atomic';
import { createProgressBar } from '../util/progress';
import { intFlag, numberFlag } from './flags';

interface TrainFlags {
  session: string;
  out: string;
  embedder?: string;
  heldOut: number;
  seed: number;
  force?: boolean;
  progress?: boolean;
}

/** Run `train`. */
export async function runTrain(flags: TrainFlags, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
  const labeledFile = path.join(flags.session, 'labeled.csv');
  const table = await readTable(labeledFile, {
    flag: '--session',
    textColumn: 'text',
    idColumn: 'id',
    extraColumns: [
      { column: 'label', flag: '--session' },
      { column: 'source', flag: '--session' },
    ],
  });
  let spec = flags.embedder;
  if (spec === undefined) {
    try {
      const run = JSON.parse(await fsp.readFile(path.join(flags.session, 'run.json'), 'utf8')) as { parameters?: Record<string, unknown> };
      const s = run.parameters?.['embedder spec'];
      if (typeof s === 'string') spec = s;
    } catch {
      // handled below
    }
  }
  if (spec === undefined) {
    throw new InvalidArgumentError('--embedder', `the session ${flags.session} does not say which embedder made its vectors (precomputed vectors?); pass --embedder`);
  }
  const labels = table.extra.label.map((l, i) => {
    if (l !== 'positive' && l !== 'negative') throw new InvalidArgumentError(`${labeledFile} ${table.rowLabel(i)}`, `label must be positive or negative, got ${JSON.stringify(l)}`);
    return l === 'positive';
  });
  const embedder = await resolveEmbedder(spec, { argument: '--embedder' });
  const bar = createProgressBar(table.texts.length, { label: 'embedding labeled rows', stream: stderr, force: Boolean(flags.progress) });
  let vectors: Float32Array;
  try {
    vectors = await embedder.embed(table.texts, { onProgress: (p) => bar.update(p.done) });
  } finally {
    bar.stop();
    await embedder.close?.();
  }
  const model = await trainClassifier(matrix(vectors, embedder.dim, 'labeled rows'), labels, {
    embedder: spec,
    heldOut: flags.heldOut,
    seed: flags.seed,
    // Only real, oracle-labeled rows are held out; synthetic seeds always train.
    evaluable: table.extra.source.map((s) => s !== 'seed'),
  });
  await writeDirAtomic(flags.out, (dir) => saveClassifier(dir, model), { replace: flags.force, flag: '--out' });
  const m = model.metrics;
  stdout.write(
    `trained on ${m.train.rows} rows (${m.train.positives} positive), held out ${m.heldOut.rows} (${m.heldOut.positives} positive)\n` +
      `PR-AUC (held out): ${m.prAuc.toFixed(4)}\n\nthreshold  precision  recall\n` +
      m.thresholds.map((t) => `${t.threshold.toFixed(1).padStart(9)}  ${Number.isNaN(t.precision) ? '        -' : t.precision.toFixed(4).padStart(9)}  ${t.recall.toFixed(4)}`).join('\n') +
      `\n\nmodel: ${path.join(path.resolve(flags.out), 'model.json')}\n`,
  );
  return model;
}

interface PredictFlags {
  model: string;
  input: string;
  textColumn?: string;
  idColumn?: string;
  out: string;
  embedder?: string;
  skipEmpty?: boolean;
  progress?: boolean;
}

/** Run `predict`. */
export async function runPredict(flags: PredictFlags, stderr: NodeJS.WriteStream = process.stderr) {
  if (!flags.out.toLowerCase().endsWith('.csv')) throw new InvalidArgumentError('--out', `must be a .csv path, got ${JSON.stringify(flags.out)}`);
  const classifier = await loadClassifier(flags.model, { embedder: flags.embedder });
  const table = await readTable(flags.input, { flag: '--input', textColumn: flags.textColumn, idColumn: flags.idColumn, requireUniqueIds: false, emptyTexts: flags.skipEmpty ? 'skip' : 'error' });
  const bar = createProgressBar(table.texts.length, { label: 'scoring', stream: stderr, force: Boolean(flags.progress) });
  let scores: Float32Array;
  try {
    scores = await classifier.predict(table.texts, { onProgress: (d) => bar.update(d) });
  } finally {
    bar.stop();
    await classifier.close();
  }
  await writeCsv(flags.out, ['id', 'score'], table.ids.map((id, i) => [id, Number(scores[i].toFixed(6))]));
  stderr.write(`synapse-g: wrote ${flags.out} (${table.texts.length} rows)\n`);
  return scores;
}

/** Register `train` and `predict`. */
export function registerClassifier(program: Command): void {
  program
    .command('train')
    .description("Train the rare-event classifier on a mining run's labeled set (class-weighted logistic regression, held-out PR-AUC, calibrated probabilities).")
    .requiredOption('--session <dir>', 'a finished `mine` output folder (labeled.csv, run.json)')
    .requiredOption('--out <dir>', 'model folder to write (model.json)')
    .option('--embedder <spec>', "embedder (default: the session's)")
    .option('--held-out <share>', 'share of oracle-labeled rows held out for evaluation', numberFlag('--held-out', 0, 1, true), 0.2)
    .option('--seed <int>', 'seed of the held-out split', intFlag('--seed'), 0)
    .option('--force', 'replace --out if it exists')
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .action(async (opts: TrainFlags) => {
      await runTrain(opts);
    });
  program
    .command('predict')
    .description('Score texts with a trained classifier: id,score (calibrated probability) CSV.')
    .requiredOption('--model <dir>', 'model folder written by `train`')
    .requiredOption('--input <file>', '.csv, .tsv, .jsonl or .txt')
    .option('--text-column <name>', 'text column (not for .txt)')
    .option('--id-column <name>', 'id column (default: 1-based row numbers)')
    .requiredOption('--out <file.csv>', 'scores to write')
    .option('--embedder <spec>', "override the model's embedder spec (e.g. a moved hf: folder)")
    .option('--skip-empty', 'skip empty texts instead of failing')
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .action(async (opts: PredictFlags) => {
      await runPredict(opts);
    });
}
