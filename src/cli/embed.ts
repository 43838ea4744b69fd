/**
 * `synapse-g embed`: embed one text column of a CSV/TSV/JSONL/TXT file into a `.npy` matrix
 * (float32, `rows × dim`, L2-normalised rows), through the disk cache, with a progress bar.
 */
import { Command } from 'commander';
import { positiveIntFlag } from './flags';
import { parseString } from 'fast-csv';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { resolveEmbedder, type CachedEmbedder } from '../embed/index';
import { InvalidArgumentError, SynapseError } from '../errors';
import { writeFileAtomic } from '../util/atomic';
import { createProgressBar } from '../util/progress';

/** One text column read from a table, with ids and how to name rows in messages. */
interface TextColumn {
  texts: string[];
  ids: string[];
  /** e.g. `column "text"`. */
  columnLabel: string;
  /** What ids are, for messages: `id column "id"` or `1-based row numbers`. */
  idLabel: string;
  /** e.g. `row 7` or `line 7`. */
  rowLabel(i: number): string;
}

type Format = 'csv' | 'tsv' | 'jsonl' | 'txt';

function formatOf(file: string): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt') return 'txt';
  throw new InvalidArgumentError('--input', `cannot tell the format of ${JSON.stringify(file)}; use .csv, .tsv, .jsonl, .ndjson or .txt`);
}

function cellToText(v: unknown, where: () => string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new InvalidArgumentError(where(), `must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`);
}

/**
 * Read the text column (and optional id column) of `file`. CSV/TSV: a header row, RFC 4180
 * quoting (quotes, embedded newlines), CRLF or LF, optional UTF-8 BOM. JSONL: one object per
 * line. TXT: one text per line.
 */
async function readTextColumn(file: string, textColumn?: string, idColumn?: string): Promise<TextColumn> {
  const format = formatOf(file);
  let raw: string;
  try {
    raw = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError('--input', `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
  const texts: string[] = [];
  const ids: string[] = [];
  if (format === 'txt') {
    if (idColumn !== undefined) throw new InvalidArgumentError('--id-column', 'is not supported for .txt input');
    const lines = raw.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((l, i) => {
      texts.push(l);
      ids.push(String(i + 1));
    });
    return { texts, ids, columnLabel: 'the line', idLabel: '1-based line numbers', rowLabel: (i) => `line ${i + 1}` };
  }
  if (textColumn === undefined) {
    throw new InvalidArgumentError('--text-column', `is required for ${format.toUpperCase()} input`);
  }
  if (format === 'jsonl') {
    const lines = raw.split(/\r?\n/);
    const lineNo: number[] = [];
    for (let ln = 0; ln < lines.length; ln++) {
      if (lines[ln].trim() === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(lines[ln]);
      } catch (e) {
        throw new InvalidArgumentError(`${file} line ${ln + 1}`, `is not valid JSON: ${(e as Error).message}`);
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new InvalidArgumentError(`${file} line ${ln + 1}`, 'must be a JSON object');
      }
      const o = obj as Record<string, unknown>;
      if (!(textColumn in o)) throw new InvalidArgumentError('--text-column', `field ${JSON.stringify(textColumn)} is missing on line ${ln + 1} of ${file}`);
      texts.push(cellToText(o[textColumn], () => `${file} line ${ln + 1} field ${textColumn}`));
      if (idColumn !== undefined) {
        if (!(idColumn in o)) throw new InvalidArgumentError('--id-column', `field ${JSON.stringify(idColumn)} is missing on line ${ln + 1} of ${file}`);
        ids.push(cellToText(o[idColumn], () => `${file} line ${ln + 1} field ${idColumn}`));
      } else {
        ids.push(String(ln + 1));
      }
      lineNo.push(ln + 1);
    }
    return {
      texts,
      ids,
      columnLabel: `field ${JSON.stringify(textColumn)}`,
      idLabel: idColumn !== undefined ? `field ${JSON.stringify(idColumn)}` : '1-based line numbers',
      rowLabel: (i) => `line ${lineNo[i]}`,
    };
  }
  const rows: string[][] = [];
  await new Promise<void>((resolve, reject) => {
    parseString(raw, { delimiter: format === 'tsv' ? '\t' : ',', headers: false, ignoreEmpty: false })
      .on('error', (e: Error) => reject(new InvalidArgumentError('--input', `${file} is not valid ${format.toUpperCase()}: ${e.message}`)))
      .on('data', (r: string[]) => rows.push(r))
      .on('end', () => resolve());
  });
  if (rows.length === 0) throw new InvalidArgumentError('--input', `${file} is empty (no header row)`);
  const header = rows[0];
  const col = header.indexOf(textColumn);
  if (col < 0) {
    throw new InvalidArgumentError('--text-column', `no column ${JSON.stringify(textColumn)} in ${file}; columns: ${header.map((h) => JSON.stringify(h)).join(', ')}`);
  }
  const idCol = idColumn === undefined ? -1 : header.indexOf(idColumn);
  if (idColumn !== undefined && idCol < 0) {
    throw new InvalidArgumentError('--id-column', `no column ${JSON.stringify(idColumn)} in ${file}; columns: ${header.map((h) => JSON.stringify(h)).join(', ')}`);
  }
  for (let r = 1; r < rows.length; r++) {
    texts.push(rows[r][col] ?? '');
    ids.push(idCol >= 0 ? (rows[r][idCol] ?? '') : String(r));
  }
  return {
    texts,
    ids,
    columnLabel: `column ${JSON.stringify(textColumn)}`,
    idLabel: idColumn !== undefined ? `column ${JSON.stringify(idColumn)}` : '1-based row numbers, header excluded',
    rowLabel: (i) => `row ${i + 1}`,
  };
}

/** Write a C-order little-endian float32 `.npy` atomically. */
async function writeNpyFloat32(file: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const header = Buffer.alloc(10);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(dict.length + pad + 1, 8);
  const text = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
  await writeFileAtomic(file, [header, text, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

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
  const table = await readTextColumn(opts.input, opts.textColumn, opts.idColumn);
  const texts: string[] = [];
  const skipped: string[] = [];
  for (let i = 0; i < table.texts.length; i++) {
    const text = table.texts[i];
    if (text.trim() === '') {
      if (!opts.skipEmpty) {
        throw new InvalidArgumentError(
          `${opts.input} ${table.rowLabel(i)}`,
          `${table.columnLabel} is empty or whitespace-only; fix the row or pass --skip-empty to skip such rows`,
        );
      }
      skipped.push(table.ids[i]);
    } else {
      texts.push(text);
    }
  }
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
