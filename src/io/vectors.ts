/**
 * Precomputed vectors: `.npy` (float32 or float64, C order, 2-D), raw little-endian `.f32` (with
 * a dimension), or JSONL with an `embedding` array per line; and writing float32 `.npy`. Values
 * are validated (finite, consistent dimension, expected row count) with errors naming the flag,
 * row and column.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';
import { matrix, type Matrix } from '../kernels';
import { writeFileAtomic } from '../util/atomic';
import { jsonLines } from './table';

/** Write a C-order little-endian float32 `.npy` atomically. */
export async function writeNpyFloat32(file: string, data: Float32Array, shape: readonly number[]): Promise<void> {
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

/** Options of {@link readVectors}. */
export interface ReadVectorsOptions {
  /** The flag naming the file in errors, e.g. `--corpus-vectors`. */
  flag: string;
  /** Expected dimension (required for `.f32`). */
  dim?: number;
  /** Flag naming the dimension in errors. Default `--dim`. */
  dimFlag?: string;
  /** Expected number of rows. */
  rows?: number;
  /** What `rows` counts, for the error, e.g. `the corpus (--corpus x.csv)`. */
  rowsLabel?: string;
}

function parseNpy(buf: Buffer, file: string, flag: string): { data: Float32Array; rows: number; dim: number } {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new InvalidArgumentError(flag, `${file} is not a .npy file (bad magic)`);
  }
  const major = buf[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new InvalidArgumentError(flag, `${file} is .npy format version ${major}.${buf[7]}; versions 1, 2 and 3 are supported`);
  }
  if (buf.length < (major === 1 ? 10 : 12)) throw new InvalidArgumentError(flag, `${file} is truncated (no .npy header)`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (buf.length < start) throw new InvalidArgumentError(flag, `${file} is truncated (the .npy header is cut short)`);
  const header = buf.toString(major >= 3 ? 'utf8' : 'latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new InvalidArgumentError(flag, `${file}: cannot read the .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') {
    throw new InvalidArgumentError(flag, `${file} is in Fortran order; save it in C order (numpy.ascontiguousarray)`);
  }
  if (descr !== '<f4' && descr !== '<f8') {
    throw new InvalidArgumentError(flag, `${file} has dtype ${JSON.stringify(descr)}; expected float32 ('<f4') or float64 ('<f8')`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.length !== 2 || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new InvalidArgumentError(flag, `${file} has shape (${shapeText}); expected 2-D (rows, dim)`);
  }
  const [rows, dim] = shape;
  const width = descr === '<f4' ? 4 : 8;
  const need = rows * dim * width;
  if (buf.length - start < need) {
    throw new InvalidArgumentError(flag, `${file} is truncated: ${buf.length - start} data bytes for shape (${rows}, ${dim})`);
  }
  const data = new Float32Array(rows * dim);
  if (width === 4) {
    data.set(new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + need)));
  } else {
    for (let i = 0; i < data.length; i++) data[i] = buf.readDoubleLE(start + 8 * i);
  }
  return { data, rows, dim };
}

function parseJsonl(text: string, file: string): { data: Float32Array; rows: number; dim: number } {
  const values: number[] = [];
  let dim = -1;
  let rows = 0;
  for (const { obj, ln } of jsonLines(text, file)) {
    const emb = (obj as { embedding?: unknown } | null)?.embedding;
    if (!Array.isArray(emb) || emb.some((v) => typeof v !== 'number' && v !== null)) {
      throw new InvalidArgumentError(`${file} line ${ln + 1}`, 'needs an "embedding" field holding an array of numbers');
    }
    if (dim < 0) dim = emb.length;
    if (emb.length !== dim) {
      throw new InvalidArgumentError(`${file} line ${ln + 1}`, `has ${emb.length} values; earlier lines have ${dim}`);
    }
    for (const v of emb) values.push(v === null ? Number.NaN : (v as number));
    rows++;
  }
  return { data: Float32Array.from(values), rows, dim: Math.max(dim, 0) };
}

/**
 * Read a matrix of precomputed vectors (not normalised here) and validate it.
 * @throws InvalidArgumentError naming `options.flag` (and the row and column of a bad value)
 */
export async function readVectors(file: string, options: ReadVectorsOptions): Promise<Matrix> {
  const { flag } = options;
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.npy' && ext !== '.f32' && ext !== '.jsonl' && ext !== '.ndjson') {
    throw new InvalidArgumentError(flag, `cannot tell the format of ${JSON.stringify(file)}; use .npy, .f32 (with a dimension) or .jsonl`);
  }
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    throw new InvalidArgumentError(flag, `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let parsed: { data: Float32Array; rows: number; dim: number };
  if (ext === '.npy') {
    parsed = parseNpy(buf, file, flag);
  } else if (ext === '.f32') {
    const dim = options.dim;
    if (dim === undefined) throw new InvalidArgumentError(options.dimFlag ?? '--dim', `is needed to read raw float32 ${file}`);
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new InvalidArgumentError(options.dimFlag ?? '--dim', `must be a positive integer, got ${dim}`);
    }
    if (buf.length % (4 * dim) !== 0) {
      throw new InvalidArgumentError(flag, `${file} has ${buf.length} bytes, not a whole number of ${dim}-d float32 rows`);
    }
    const data = new Float32Array(buf.length / 4);
    for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(4 * i);
    parsed = { data, rows: data.length / dim, dim };
  } else {
    parsed = parseJsonl(buf.toString('utf8'), file);
  }
  const { data, rows, dim } = parsed;
  if (rows === 0 || dim === 0) throw new InvalidArgumentError(flag, `${file} holds no vectors`);
  if (options.dim !== undefined && dim !== options.dim) {
    throw new InvalidArgumentError(flag, `${file} has dimension ${dim}, expected ${options.dim}${options.dimFlag ? ` (${options.dimFlag})` : ''}`);
  }
  if (options.rows !== undefined && rows !== options.rows) {
    throw new InvalidArgumentError(flag, `has ${rows} rows but ${options.rowsLabel ?? 'the input'} has ${options.rows}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InvalidArgumentError(flag, `${file} row ${Math.floor(i / dim) + 1}, column ${(i % dim) + 1} is ${data[i]} (NaN/Inf are not allowed)`);
    }
  }
  return matrix(data, dim, flag);
}
