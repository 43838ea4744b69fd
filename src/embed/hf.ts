/**
 * Local Hugging Face sentence-transformer folders (all-MiniLM-L6-v2, bge-small, e5-small, ...)
 * run in the Rust core: `tokenizer.json` through the `tokenizers` crate, `model.safetensors`
 * through a BERT forward on `candle`, pooling as `1_Pooling/config.json` says, rows
 * L2-normalised. No Python, no network, no ONNX Runtime.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InvalidArgumentError, fromNative } from '../errors';
import native from '../native';
import type { EmbedOptions, Embedder } from './embedder';

/** Files a folder must hold (checked in this order). */
export const HF_REQUIRED_FILES: readonly string[] = ['config.json', 'tokenizer.json', 'model.safetensors'];

/** Options of {@link createHfEmbedder}. */
export interface HfEmbedderOptions {
  /** Texts per forward pass. Default 16 (fastest on 2 cores for short sentences). */
  batchSize?: number;
  /** Threads of the encoder's own pool. Default: every core. */
  threads?: number;
}

/** An {@link Embedder} over a local sentence-transformers folder. */
export interface HfEmbedder extends Embedder {
  /** Absolute path of the folder. */
  readonly dir: string;
  /** Pooling modes the folder asks for, e.g. `mean` or `cls`. */
  readonly pooling: string;
  /** Token limit per text (special tokens included); longer texts are truncated. */
  readonly maxSeqLength: number;
}

/** Texts per native call: progress and abort are checked between calls. */
const CALL_TEXTS = 2048;

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(name, `must be a positive integer, got ${v}`);
  return v;
}

/**
 * Load a sentence-transformers folder. Rejects with an {@link InvalidArgumentError} on argument
 * `dir` naming the missing file (`dir: missing tokenizer.json in ...`) when the folder is
 * incomplete. The model id is `hf:<folder name>`.
 */
export async function createHfEmbedder(dir: string, options: HfEmbedderOptions = {}): Promise<HfEmbedder> {
  if (typeof dir !== 'string' || dir.trim() === '') throw new InvalidArgumentError('dir', 'must be a folder path');
  const defaultBatch = positiveInt('batchSize', options.batchSize, 16);
  const threads = options.threads === undefined ? 0 : positiveInt('threads', options.threads, 0);
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new InvalidArgumentError('dir', `${abs} is not a directory`);
  }
  for (const f of HF_REQUIRED_FILES) {
    if (!existsSync(resolve(abs, f))) throw new InvalidArgumentError('dir', `missing ${f} in ${abs}`);
  }
  let enc: Awaited<ReturnType<typeof native.loadHfEncoder>>;
  try {
    enc = await native.loadHfEncoder(abs, threads);
  } catch (e) {
    throw fromNative(e);
  }
  const dim = enc.dim;
  let closed = false;

  async function embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array> {
    if (closed) throw new InvalidArgumentError('embedder', 'is closed');
    if (!Array.isArray(texts)) throw new InvalidArgumentError('texts', 'must be an array of strings');
    const batchSize = positiveInt('batchSize', opts.batchSize, defaultBatch);
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new InvalidArgumentError(`texts[${i}]`, `must be a string, got ${typeof t}`);
      if (t.trim() === '') throw new InvalidArgumentError(`texts[${i}]`, 'empty text (nothing to embed)');
    });
    const out = new Float32Array(texts.length * dim);
    const step = Math.max(CALL_TEXTS, batchSize);
    for (let start = 0; start < texts.length; start += step) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const chunk = texts.slice(start, start + step);
      let v: Float32Array;
      try {
        v = await enc.embed(chunk, batchSize);
      } catch (e) {
        const err = fromNative(e);
        // Row numbers from the native side are relative to the chunk.
        if (err instanceof InvalidArgumentError) {
          const m = /^texts\[(\d+)\]$/.exec(err.argument);
          if (m) throw new InvalidArgumentError(`texts[${start + Number(m[1])}]`, err.message.replace(/^[^:]+: /, ''), { cause: e });
        }
        throw err;
      }
      out.set(v, start * dim);
      opts.onProgress?.({ done: start + chunk.length, total: texts.length });
    }
    if (opts.signal?.aborted) throw opts.signal.reason;
    return out;
  }

  return {
    modelId: `hf:${basename(abs)}`,
    dim,
    dir: abs,
    pooling: enc.pooling,
    maxSeqLength: enc.maxSeqLength,
    embed,
    async close() {
      closed = true;
    },
  };
}
