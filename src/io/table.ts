/**
 * Reading and writing tables: CSV/TSV (fast-csv: RFC 4180 quoting, embedded newlines, CRLF, a
 * UTF-8 BOM), JSONL (one object per line) and TXT (one text per line). Every problem is an
 * {@link InvalidArgumentError} naming the flag, file, row or column.
 */
import { parseString, writeToBuffer } from 'fast-csv';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';
import { writeFileAtomic } from '../util/atomic';

/** A table's format, from its extension. */
export type TableFormat = 'csv' | 'tsv' | 'jsonl' | 'txt';

/** The format of `file` by extension; `flag` is named in the error for an unknown one. */
export function formatOf(file: string, flag: string): TableFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt') return 'txt';
  throw new InvalidArgumentError(flag, `cannot tell the format of ${JSON.stringify(file)}; use .csv, .tsv, .jsonl, .ndjson or .txt`);
}

/** Options of {@link readTable}. */
export interface ReadTableOptions {
  /** The flag naming the file in errors, e.g. `--corpus`. */
  flag: string;
  /** Column (or JSON field) holding the texts; not used for `.txt`. */
  textColumn?: string;
  /** Flag naming the text column in errors. Default `--text-column`. */
  textFlag?: string;
  /** Column holding row ids; default ids are 1-based row numbers. */
  idColumn?: string;
  /** Flag naming the id column in errors. Default `--id-column`. */
  idFlag?: string;
  /** More columns to read (e.g. an oracle's label column); a missing one names its flag. */
  extraColumns?: { column: string; flag: string }[];
  /** Fail on a repeated id. Default: true when `idColumn` is given. */
  requireUniqueIds?: boolean;
  /** Empty or whitespace-only texts: fail naming the row (default), skip them (listed), or keep them. */
  emptyTexts?: 'error' | 'skip' | 'keep';
}

/** A table's text column, ids and requested extra columns. */
export interface TextTable {
  file: string;
  format: TableFormat;
  texts: string[];
  ids: string[];
  /** Values of each requested extra column, by column name. */
  extra: Record<string, string[]>;
  /** Rows dropped by `emptyTexts: 'skip'`: their id and where they are (e.g. `row 7`). */
  skipped: { id: string; row: string }[];
  /** e.g. `column "text"`. */
  columnLabel: string;
  /** What ids are, for messages. */
  idLabel: string;
  /** Where kept row `i` is in the file: `row 7` (data rows from 1, after the header) or `line 7`. */
  rowLabel(i: number): string;
}

function cellToText(v: unknown, where: () => string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new InvalidArgumentError(where(), `must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`);
}

/** The parsed values of a JSON-lines text, with 0-based line numbers; blank lines skipped. */
export function* jsonLines(text: string, file: string): Generator<{ obj: unknown; ln: number }> {
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    if (lines[ln].trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(lines[ln]);
    } catch (e) {
      throw new InvalidArgumentError(`${file} line ${ln + 1}`, `is not valid JSON: ${(e as Error).message}`);
    }
    yield { obj, ln };
  }
}

interface RawRow {
  /** e.g. `row 3` / `line 3`. */
  where: string;
  get(column: string): string | undefined;
  /** The row's own field names (JSONL), listed when a field is missing. */
  fields?: () => string[];
}

async function rawRows(file: string, format: TableFormat, flag: string, raw: string): Promise<{ columns: string[] | undefined; rows: RawRow[] }> {
  if (format === 'txt') {
    const lines = raw.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return { columns: undefined, rows: lines.map((l, i) => ({ where: `line ${i + 1}`, get: () => l })) };
  }
  if (format === 'jsonl') {
    const rows: RawRow[] = [];
    for (const { obj, ln } of jsonLines(raw, file)) {
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new InvalidArgumentError(`${file} line ${ln + 1}`, 'must be a JSON object');
      }
      const o = obj as Record<string, unknown>;
      const where = `line ${ln + 1}`;
      rows.push({
        where,
        get: (c) => (Object.hasOwn(o, c) ? cellToText(o[c], () => `${file} ${where} field ${c}`) : undefined),
        fields: () => Object.keys(o),
      });
    }
    return { columns: undefined, rows };
  }
  const cells: string[][] = [];
  await new Promise<void>((resolve, reject) => {
    // ignoreEmpty would also drop rows whose fields are all empty (`""`, `,`), hiding empty texts;
    // blank lines come through as zero-field rows and are skipped below instead.
    parseString(raw, { delimiter: format === 'tsv' ? '\t' : ',', headers: false, ignoreEmpty: false })
      .on('error', (e: Error) => reject(new InvalidArgumentError(flag, `${file} is not valid ${format.toUpperCase()}: ${e.message}`)))
      .on('data', (r: string[]) => {
        if (r.length > 0) cells.push(r);
      })
      .on('end', () => resolve());
  });
  if (cells.length === 0) throw new InvalidArgumentError(flag, `${file} is empty (no header row)`);
  const header = cells[0];
  const index = new Map(header.map((h, i) => [h, i]));
  const rows: RawRow[] = [];
  for (let r = 1; r < cells.length; r++) {
    if (cells[r].length !== header.length) {
      throw new InvalidArgumentError(
        `${file} row ${r}`,
        `has ${cells[r].length} fields but the header has ${header.length} (an unbalanced quote or a stray ${format === 'tsv' ? 'tab' : 'comma'}?)`,
      );
    }
    const row = cells[r];
    rows.push({ where: `row ${r}`, get: (c) => (index.has(c) ? row[index.get(c) as number] : undefined) });
  }
  return { columns: header, rows };
}

/**
 * Read the text column (and optional id and extra columns) of `file`. CSV/TSV need a header row;
 * JSONL has one object per line (blank lines skipped); TXT one text per line.
 */
export async function readTable(file: string, options: ReadTableOptions): Promise<TextTable> {
  const { flag } = options;
  const format = formatOf(file, flag);
  const textFlag = options.textFlag ?? '--text-column';
  const idFlag = options.idFlag ?? '--id-column';
  const extras = options.extraColumns ?? [];
  if (format === 'txt') {
    if (options.idColumn !== undefined) throw new InvalidArgumentError(idFlag, `is not supported for .txt input (${file})`);
    if (extras.length > 0) throw new InvalidArgumentError(extras[0].flag, `needs a column, but ${file} is .txt (one text per line)`);
  } else if (options.textColumn === undefined) {
    throw new InvalidArgumentError(textFlag, `is required for ${format.toUpperCase()} input (${file})`);
  }
  let raw: string;
  try {
    raw = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(flag, `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
  const { columns, rows } = await rawRows(file, format, flag, raw);
  const what = format === 'jsonl' ? 'field' : 'column';
  const need = (column: string, f: string): void => {
    if (columns && !columns.includes(column)) {
      throw new InvalidArgumentError(f, `no column ${JSON.stringify(column)} in ${file}; columns: ${columns.map((h) => JSON.stringify(h)).join(', ')}`);
    }
  };
  if (format !== 'txt') {
    need(options.textColumn as string, textFlag);
    if (options.idColumn !== undefined) need(options.idColumn, idFlag);
    for (const e of extras) need(e.column, e.flag);
  }
  const read = (r: RawRow, column: string, f: string): string => {
    const v = r.get(column);
    if (v === undefined) {
      const have = r.fields?.();
      const list = have ? `; fields there: ${have.length ? have.map((h) => JSON.stringify(h)).join(', ') : '(none)'}` : '';
      throw new InvalidArgumentError(f, `${what} ${JSON.stringify(column)} is missing on ${r.where} of ${file}${list}`);
    }
    return v;
  };
  const texts: string[] = [];
  const ids: string[] = [];
  const where: string[] = [];
  const extra: Record<string, string[]> = Object.fromEntries(extras.map((e) => [e.column, [] as string[]]));
  const skipped: { id: string; row: string }[] = [];
  const empty = options.emptyTexts ?? 'error';
  const seen = new Map<string, string>();
  const unique = options.requireUniqueIds ?? options.idColumn !== undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const text = format === 'txt' ? (r.get('') as string) : read(r, options.textColumn as string, textFlag);
    const id = options.idColumn !== undefined ? read(r, options.idColumn, idFlag) : String(i + 1);
    if (unique) {
      const prev = seen.get(id);
      if (prev !== undefined) throw new InvalidArgumentError(`${file} ${r.where}`, `duplicate id ${JSON.stringify(id)} (first on ${prev}); ids must be unique`);
      seen.set(id, r.where);
    }
    if (text.trim() === '' && empty !== 'keep') {
      if (empty === 'error') {
        throw new InvalidArgumentError(`${file} ${r.where}`, `${format === 'txt' ? 'the line' : `${what} ${JSON.stringify(options.textColumn)}`} is empty or whitespace-only; fix the row or pass --skip-empty to skip such rows`);
      }
      skipped.push({ id, row: r.where });
      continue;
    }
    texts.push(text);
    ids.push(id);
    where.push(r.where);
    for (const e of extras) extra[e.column].push(read(r, e.column, e.flag));
  }
  return {
    file,
    format,
    texts,
    ids,
    extra,
    skipped,
    columnLabel: format === 'txt' ? 'the line' : `${what} ${JSON.stringify(options.textColumn)}`,
    idLabel: options.idColumn !== undefined ? `${what} ${JSON.stringify(options.idColumn)}` : format === 'csv' || format === 'tsv' ? '1-based row numbers, header excluded' : '1-based line numbers',
    rowLabel: (i) => where[i],
  };
}

/**
 * Write a CSV atomically: RFC 4180 (fields holding a comma, quote, CR or LF are quoted, quotes
 * doubled), LF line ends, a header row. Numbers are written in full precision as `String(n)`
 * prints them (`1e-7`, `Infinity`); `NaN` as an empty field. A one-column table quotes every
 * field, so an empty value is `""` rather than a blank line (which readers skip).
 * @throws InvalidArgumentError naming `file` when a row's length differs from the header's
 */
export async function writeCsv(file: string, header: readonly string[], rows: Iterable<readonly (string | number)[]>): Promise<void> {
  const all: string[][] = [[...header]];
  for (const r of rows) {
    if (r.length !== header.length) {
      throw new InvalidArgumentError(file, `row ${all.length} has ${r.length} fields but the header has ${header.length}`);
    }
    all.push(r.map((v) => (typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : v)));
  }
  const oneColumn = header.length === 1;
  const buf = await writeToBuffer(all, { headers: false, quoteColumns: oneColumn, quoteHeaders: oneColumn, includeEndRowDelimiter: true });
  await writeFileAtomic(file, buf);
}
