/**
 * A disk cache in front of any {@link Embedder}, keyed by model id and text hash, so a second
 * run over the same corpus embeds nothing.
 *
 * **Layout.** `<dir>/embeddings/v1/<model-slug>-<hash of modelId>/` holds immutable *batch files*
 * (`*.sgec`), one per flushed chunk of newly embedded texts. Each is written to a hidden temp
 * file, fsynced and renamed into place ({@link writeFileAtomic}), so a writer killed with
 * SIGKILL mid-write leaves at most a stray `.*.tmp` file, never a visible partial entry. Stale
 * temp files (over an hour old) are removed when a cache opens.
 *
 * **Batch file format** (little-endian): magic `SGEMBC01` (8 bytes), `u32 dim`, `u32 count`,
 * `u32 L`, the model id (`L` bytes of UTF-8), `count` 32-byte keys, `count × dim` float32
 * vectors, then the SHA-256 of everything before it. A file whose size does not match its
 * header is ignored; a file whose checksum fails when it is read is ignored (its texts are
 * embedded again) and deleted. So even a torn or bit-flipped file never yields a wrong vector.
 *
 * **Key.** `sha256(modelId + "\0" + text)`: identical texts are embedded once, whichever row
 * they are in and whichever run sees them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, SynapseError } from '../errors';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomic';
import type { EmbedOptions, Embedder } from './embedder';

const MAGIC = Buffer.from('SGEMBC01', 'latin1');
const EXT = '.sgec';
const KEY_BYTES = 32;

/** The cache folder used when none is given: env `SYNAPSE_G_CACHE_DIR`, else `~/.cache/synapse-g`. */
export function defaultCacheDir(): string {
  const env = process.env.SYNAPSE_G_CACHE_DIR;
  if (env && env.trim() !== '') return path.resolve(env);
  return path.join(os.homedir(), '.cache', 'synapse-g');
}

/** The cache key of `text` under `modelId`: `sha256(modelId + "\0" + text)`. */
export function cacheKey(modelId: string, text: string): Buffer {
  return createHash('sha256').update(modelId, 'utf8').update('\0').update(text, 'utf8').digest();
}

/** The folder holding the batch files of `modelId` under cache root `dir`. */
export function modelCacheDir(dir: string, modelId: string): string {
  const slug = modelId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
  const h = createHash('sha256').update(modelId, 'utf8').digest('hex').slice(0, 12);
  return path.join(dir, 'embeddings', 'v1', `${slug}-${h}`);
}

/** Options of {@link withCache}. */
export interface CacheOptions {
  /** Cache root. Default {@link defaultCacheDir}. */
  dir?: string;
  /**
   * Newly embedded texts are written to disk every this many texts, so an interrupted job keeps
   * what it finished. Default 1024 (or the batch size, when larger).
   */
  flushEvery?: number;
  /** Called when the cache cannot be written (the embedding still succeeds). Default: a process warning. */
  onWarning?: (message: string) => void;
}

/** Counters of a {@link CachedEmbedder}, over its lifetime. */
export interface CacheStats {
  /** Texts served from disk. */
  hits: number;
  /** Texts not found on disk (before de-duplication). */
  misses: number;
  /** Distinct texts sent to the wrapped embedder. */
  embedded: number;
  /** Batch files ignored as torn or corrupt. */
  corruptFiles: number;
  /** Batch files that failed to be written. */
  writeErrors: number;
}

/** An {@link Embedder} backed by a disk cache; see {@link withCache}. */
export interface CachedEmbedder extends Embedder {
  /** The wrapped embedder. */
  readonly inner: Embedder;
  /** The folder holding this model's batch files. */
  readonly cacheDir: string;
  /** Hit and miss counters. */
  readonly stats: Readonly<CacheStats>;
}

interface FileInfo {
  path: string;
  dim: number;
  count: number;
  /** Byte offset of the vectors. */
  vecOffset: number;
  bad: boolean;
}

interface Location {
  file: FileInfo;
  row: number;
}

/** Read the header and keys of a batch file; `undefined` when it is not a complete batch file of `modelId`. */
async function readIndex(file: string, modelId: string): Promise<{ info: FileInfo; keys: Buffer } | undefined> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'r');
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(20);
    if (size < 20 || (await fh.read(head, 0, 20, 0)).bytesRead !== 20) return undefined;
    if (!head.subarray(0, 8).equals(MAGIC)) return undefined;
    const dim = head.readUInt32LE(8);
    const count = head.readUInt32LE(12);
    const idLen = head.readUInt32LE(16);
    if (dim === 0 || idLen > 1 << 16) return undefined;
    const vecOffset = 20 + idLen + count * KEY_BYTES;
    if (size !== vecOffset + count * dim * 4 + 32) return undefined;
    const idAndKeys = Buffer.alloc(idLen + count * KEY_BYTES);
    const { bytesRead } = await fh.read(idAndKeys, 0, idAndKeys.length, 20);
    if (bytesRead !== idAndKeys.length) return undefined;
    if (idAndKeys.toString('utf8', 0, idLen) !== modelId) return undefined;
    return { info: { path: file, dim, count, vecOffset, bad: false }, keys: idAndKeys.subarray(idLen) };
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Serialise one batch file. */
function encodeBatch(modelId: string, dim: number, keys: readonly Buffer[], vectors: Float32Array): Buffer {
  const id = Buffer.from(modelId, 'utf8');
  const count = keys.length;
  const body = Buffer.alloc(20 + id.length + count * KEY_BYTES + count * dim * 4);
  MAGIC.copy(body, 0);
  body.writeUInt32LE(dim, 8);
  body.writeUInt32LE(count, 12);
  body.writeUInt32LE(id.length, 16);
  id.copy(body, 20);
  let o = 20 + id.length;
  for (const k of keys) {
    k.copy(body, o);
    o += KEY_BYTES;
  }
  Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).copy(body, o);
  const sum = createHash('sha256').update(body).digest();
  return Buffer.concat([body, sum]);
}

/**
 * Wrap `embedder` with a disk cache (see the module doc for the layout and crash safety). The
 * returned embedder has the same `modelId` and `dim`; `embed` looks each text up by
 * `sha256(modelId + "\0" + text)`, sends only the missing distinct texts to `embedder`, and
 * writes them to disk every `flushEvery` texts.
 */
export function withCache(embedder: Embedder, options: CacheOptions = {}): CachedEmbedder {
  if (os.endianness() !== 'LE') {
    // Batch files store float32 little-endian and are read with plain byte copies.
    throw new SynapseError('the embedding cache needs a little-endian CPU', 'UNSUPPORTED_PLATFORM');
  }
  const root = path.resolve(options.dir ?? defaultCacheDir());
  const flushEvery = options.flushEvery ?? 1024;
  if (!Number.isInteger(flushEvery) || flushEvery < 1) {
    throw new InvalidArgumentError('flushEvery', `must be a positive integer, got ${flushEvery}`);
  }
  const modelId = embedder.modelId;
  const dir = modelCacheDir(root, modelId);
  const warn =
    options.onWarning ??
    ((m: string) => {
      process.emitWarning(m, 'SynapseCacheWarning');
    });
  const stats: CacheStats = { hits: 0, misses: 0, embedded: 0, corruptFiles: 0, writeErrors: 0 };
  const index = new Map<string, Location>();
  const seenFiles = new Set<string>();
  let cachedDim = 0;
  let cleaned = false;

  const refresh = async () => {
    if (!cleaned) {
      cleaned = true;
      await removeStaleTempFiles(dir);
    }
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return;
    }
    names.sort();
    for (const name of names) {
      if (name.startsWith('.') || !name.endsWith(EXT) || seenFiles.has(name)) continue;
      seenFiles.add(name);
      const r = await readIndex(path.join(dir, name), modelId);
      if (!r) {
        stats.corruptFiles++;
        continue;
      }
      const d = embedder.dim > 0 ? embedder.dim : cachedDim;
      if (d > 0 && r.info.dim !== d) continue; // another dimension (should not happen): ignore
      if (cachedDim === 0) cachedDim = r.info.dim;
      for (let row = 0; row < r.info.count; row++) {
        const k = r.keys.toString('latin1', row * KEY_BYTES, (row + 1) * KEY_BYTES);
        if (!index.has(k)) index.set(k, { file: r.info, row });
      }
    }
  };

  /** Read and verify a whole batch file; `undefined` (and the file dropped) when corrupt. */
  const loadFile = async (file: FileInfo): Promise<Buffer | undefined> => {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(file.path);
    } catch {
      buf = Buffer.alloc(0);
    }
    const ok =
      buf.length > 32 &&
      createHash('sha256').update(buf.subarray(0, buf.length - 32)).digest().equals(buf.subarray(buf.length - 32));
    if (!ok) {
      file.bad = true;
      stats.corruptFiles++;
      for (const [k, loc] of index) if (loc.file === file) index.delete(k);
      await fsp.rm(file.path, { force: true }).catch(() => undefined);
      return undefined;
    }
    return buf;
  };

  const embed = async (texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array> => {
    if (!Array.isArray(texts)) throw new InvalidArgumentError('texts', 'must be an array of strings');
    for (let i = 0; i < texts.length; i++) {
      if (typeof texts[i] !== 'string') throw new InvalidArgumentError(`texts[${i}]`, 'must be a string');
    }
    opts.signal?.throwIfAborted();
    const n = texts.length;
    const keys = texts.map((t) => cacheKey(modelId, t));
    const skeys = keys.map((k) => k.toString('latin1'));
    await refresh();

    // Positions of each distinct key.
    const positions = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const list = positions.get(skeys[i]);
      if (list) list.push(i);
      else positions.set(skeys[i], [i]);
    }

    // Hits, grouped by file, read and verified one file at a time.
    const byFile = new Map<FileInfo, Array<[string, number]>>();
    for (const k of positions.keys()) {
      const loc = index.get(k);
      if (!loc) continue;
      const list = byFile.get(loc.file);
      if (list) list.push([k, loc.row]);
      else byFile.set(loc.file, [[k, loc.row]]);
    }
    let dim = embedder.dim > 0 ? embedder.dim : cachedDim;
    let out = new Float32Array(n * dim);
    const found = new Set<string>();
    let hitRows = 0;
    for (const [file, rows] of byFile) {
      opts.signal?.throwIfAborted();
      if (file.bad || file.dim !== dim) continue;
      const buf = await loadFile(file);
      if (!buf) continue;
      const bytes = new Uint8Array(out.buffer);
      for (const [k, row] of rows) {
        const src = buf.subarray(file.vecOffset + row * dim * 4, file.vecOffset + (row + 1) * dim * 4);
        for (const i of positions.get(k)!) bytes.set(src, i * dim * 4);
        found.add(k);
        hitRows += positions.get(k)!.length;
      }
    }
    const missing: string[] = [];
    for (const k of positions.keys()) if (!found.has(k)) missing.push(k);
    stats.hits += hitRows;
    stats.misses += n - hitRows;

    const place = (k: string, v: Float32Array, at: number) => {
      for (const i of positions.get(k)!) out.set(v.subarray(at, at + dim), i * dim);
    };
    let done = hitRows;
    opts.onProgress?.({ done, total: n });

    const step = Math.max(flushEvery, opts.batchSize ?? 0);
    for (let s = 0; s < missing.length; s += step) {
      const chunk = missing.slice(s, s + step);
      const chunkTexts = chunk.map((k) => texts[positions.get(k)![0]]);
      const weight = chunk.map((k) => positions.get(k)!.length);
      const base = done;
      const vecs = await embedder.embed(chunkTexts, {
        batchSize: opts.batchSize,
        signal: opts.signal,
        onProgress: opts.onProgress
          ? (p) => {
              // Progress in rows of the caller's input (duplicates count), approximated by distinct texts.
              let rows = 0;
              for (let j = 0; j < p.done && j < weight.length; j++) rows += weight[j];
              opts.onProgress?.({ done: base + rows, total: n });
            }
          : undefined,
      });
      if (chunk.length > 0 && vecs.length % chunk.length !== 0) {
        throw new SynapseError(`embedder ${modelId} returned ${vecs.length} values for ${chunk.length} texts`, 'BAD_EMBEDDER');
      }
      const d = vecs.length / chunk.length;
      if (dim === 0) {
        dim = d;
        out = new Float32Array(n * dim);
      } else if (d !== dim) {
        throw new SynapseError(
          `embedder ${modelId} returned ${d}-dimensional vectors but the cache in ${dir} holds ${dim}-dimensional ones; remove that folder`,
          'CACHE_DIM_MISMATCH',
        );
      }
      for (let j = 0; j < chunk.length; j++) place(chunk[j], vecs, j * dim);
      stats.embedded += chunk.length;
      done = base + weight.reduce((a, b) => a + b, 0);
      opts.onProgress?.({ done, total: n });
      // Persist this chunk.
      const name = `${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(4).toString('hex')}${EXT}`;
      const file = path.join(dir, name);
      const chunkKeys = chunk.map((k) => Buffer.from(k, 'latin1'));
      try {
        await writeFileAtomic(file, encodeBatch(modelId, dim, chunkKeys, vecs));
        seenFiles.add(name);
        const info: FileInfo = { path: file, dim, count: chunk.length, vecOffset: 0, bad: false };
        info.vecOffset = 20 + Buffer.byteLength(modelId, 'utf8') + chunk.length * KEY_BYTES;
        if (cachedDim === 0) cachedDim = dim;
        for (let j = 0; j < chunk.length; j++) if (!index.has(chunk[j])) index.set(chunk[j], { file: info, row: j });
      } catch (e) {
        stats.writeErrors++;
        warn(`synapse-g: could not write the embedding cache in ${dir}: ${(e as Error).message}`);
      }
    }
    return out;
  };

  const cached: CachedEmbedder = {
    modelId,
    get dim() {
      return embedder.dim > 0 ? embedder.dim : cachedDim;
    },
    inner: embedder,
    cacheDir: dir,
    stats,
    embed,
  };
  if (embedder.close) {
    const close = embedder.close.bind(embedder);
    (cached as { close?: () => Promise<void> }).close = close;
  }
  return cached;
}
