/**
 * `synapse-g embed`: embed one text column of a CSV/TSV/JSONL/TXT file into a `.npy` matrix
 * (float32, `rows × dim`, L2-normalised rows), through the disk cache, with a progress bar.
 */
import { Command } from 'commander';
import { positiveIntFlag } from './flags';
import { promises as fsp } from 'node:fs';
import { resolveEmbedder, type CachedEmbedder } from '../embed/index';
import { InvalidArgumentError, SynapseError } from '../errors';
import { readTable } from '../io/table';
import { writeNpyFloat32 } from '../io/vectors';
import { writeFileAtomic } from '../util/atomic';
import { createProgressBar } from '../util/progress';

/** Options of {@link runEmbed}, as parsed from the command line. */
export interface EmbedCommandOptions {
  /** Input table: `.csv`, `.tsv`, `.jsonl`/`.ndjson` or `.txt` (one text per line). */
  input: string;
  /** Column (or JSON field) holding the texts; not needed for `.txt`. */
  textColumn?: string;
  /** Column (or JSON field) holding row ids, used when reporting skipped rows. */
  idColumn?: string;
  /** Embedder spec: `default`, `hf:DIR` or `openai:MODEL`. */
  model: string;
  /** Output `.npy` path. */
  out: string;
  /** Skip empty/whitespace-only texts (ids reported on stderr and in `<out>.skipped.txt`) instead of failing. */
  skipEmpty?: boolean;
  /** Texts per model call. */
  batchSize?: number;
  /** `false` disables the disk cache (commander's `--no-cache`). */
  cache?: boolean;
  /** Cache root. */
  cacheDir?: string;
  /** Draw the progress bar even when stderr is not a TTY. */
  progress?: boolean;
}

/** What {@link runEmbed} did. */
export interface EmbedCommandResult {
  /** Rows written to the `.npy`. */
  rows: number;
  /** Embedding dimension. */
  dim: number;
  /** Ids of skipped empty rows (see {@link EmbedCommandOptions.idColumn}). */
  skipped: string[];
}

/** Path of the sidecar listing skipped row ids. */
export function skippedSidecarPath(out: string): string {
  return `${out}.skipped.txt`;
}

/** Run `synapse-g embed` with parsed options; messages go to `stderr`. */
export async function runEmbed(
  opts: EmbedCommandOptions,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<EmbedCommandResult> {
  if (!opts.out.toLowerCase().endsWith('.npy')) {
    throw new InvalidArgumentError('--out', `must be a .npy path, got ${JSON.stringify(opts.out)}`);
  }
  const table = await readTable(opts.input, {
    flag: '--input',
    textColumn: opts.textColumn,
    idColumn: opts.idColumn,
    requireUniqueIds: false,
    emptyTexts: opts.skipEmpty ? 'skip' : 'error',
  });
  const texts = table.texts;
  const skipped = table.skipped.map((s) => s.id);
  if (texts.length === 0) {
    throw new InvalidArgumentError(
      '--input',
      `${opts.input} has no non-empty texts to embed${skipped.length ? ` (${skipped.length} empty rows skipped)` : ''}`,
    );
  }

  const embedder = await resolveEmbedder(opts.model, {
    argument: '--model',
    noCache: opts.cache === false,
    ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
  });
  const started = Date.now();
  const bar = createProgressBar(texts.length, { label: 'embedding', stream: stderr, force: Boolean(opts.progress) });
  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort(new SynapseError('interrupted (SIGINT); nothing was written', 'INTERRUPTED'));
  process.once('SIGINT', onSigint);
  let vectors: Float32Array;
  try {
    vectors = await embedder.embed(texts, {
      signal: ctrl.signal,
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      onProgress: (p) => bar.update(p.done),
    });
  } catch (e) {
    if (ctrl.signal.aborted && ctrl.signal.reason instanceof SynapseError) throw ctrl.signal.reason;
    throw e;
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
    await embedder.close?.();
  }
  const dim = vectors.length / texts.length;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new SynapseError(`embedder ${embedder.modelId} returned ${vectors.length} values for ${texts.length} texts`);
  }

  await writeNpyFloat32(opts.out, vectors, [texts.length, dim]);
  const sidecar = skippedSidecarPath(opts.out);
  if (skipped.length > 0) {
    await writeFileAtomic(sidecar, `${skipped.join('\n')}\n`);
    const shown = skipped.slice(0, 20).join(', ');
    stderr.write(
      `synapse-g: skipped ${skipped.length} empty row(s) (${table.idLabel}): ${shown}${skipped.length > 20 ? ', …' : ''}; all listed in ${sidecar}\n`,
    );
  } else {
    await fsp.rm(sidecar, { force: true });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const stats = (embedder as Partial<CachedEmbedder>).stats;
  const cacheNote = stats ? `; ${stats.hits} from cache, ${stats.embedded} embedded` : '';
  stderr.write(
    `synapse-g: wrote ${opts.out} (${texts.length} × ${dim} float32) with ${embedder.modelId} in ${secs} s${cacheNote}\n`,
  );
  return { rows: texts.length, dim, skipped };
}

/** Register `embed` on `program`. */
export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('Embed a text column of a CSV/TSV/JSONL/TXT file into a float32 .npy matrix (L2-normalised rows).')
    .requiredOption('--input <file>', 'input table: .csv, .tsv, .jsonl/.ndjson, or .txt (one text per line)')
    .option('--text-column <name>', 'column (or JSON field) holding the texts; not needed for .txt')
    .option('--id-column <name>', 'column holding row ids, used to report skipped rows (default: 1-based row number)')
    .option('--model <spec>', 'embedder: default | hf:DIR | openai:MODEL (OPENAI_BASE_URL, OPENAI_API_KEY)', 'default')
    .requiredOption('--out <file.npy>', 'output matrix, written atomically')
    .option('--skip-empty', 'skip empty/whitespace-only texts; their ids go to stderr and <out>.skipped.txt (default: fail naming the row)')
    .option('--batch-size <n>', 'texts per model call', positiveIntFlag('--batch-size'))
    .option('--no-cache', 'do not read or write the embedding cache')
    .option('--cache-dir <dir>', 'cache root (default: $SYNAPSE_G_CACHE_DIR or ~/.cache/synapse-g)')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .action(async (opts: EmbedCommandOptions) => {
      await runEmbed(opts);
    });
}
