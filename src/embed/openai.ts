/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Azure-style proxies,
 * vLLM, llama.cpp, Ollama, LiteLLM, ...).
 *
 * Texts are sent in batches, several batches at once (a concurrency limit), each request retried
 * with exponential backoff and jitter on 429, 5xx, timeouts and network errors (a `Retry-After`
 * header is honoured). Any other 4xx fails at once with the server's message. Responses are
 * validated (one vector per input, same dimension, finite numbers) and rows L2-normalised.
 * The API key never appears in an error message.
 */
import { InvalidArgumentError, SynapseError } from '../errors';
import { apiEndpoint, intOption, postJson } from '../util/http';
import { mapLimit } from '../util/limit';
import type { EmbedOptions, Embedder } from './embedder';

/** Default base URL when neither the option nor `OPENAI_BASE_URL` is set. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Options of {@link createOpenAIEmbedder}. */
export interface OpenAIEmbedderOptions {
  /** Model name sent to the API, e.g. `text-embedding-3-small`. */
  model: string;
  /** API root (the part before `/embeddings`). Default: env `OPENAI_BASE_URL`, else {@link OPENAI_DEFAULT_BASE_URL}. */
  baseUrl?: string;
  /** Bearer token. Default: env `OPENAI_API_KEY`. May be empty for local servers. */
  apiKey?: string;
  /** Texts per request. Default 128. */
  batchSize?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Per-request timeout in ms (including the response body). Default 60 000. */
  timeoutMs?: number;
  /** Retries per request after the first attempt. Default 5. */
  maxRetries?: number;
  /** Backoff scale in ms (the first retry waits about this long). Default 500. */
  retryBaseDelayMs?: number;
  /** Cap of any single retry wait in ms (also caps `Retry-After`). Default 60 000. */
  retryMaxDelayMs?: number;
  /**
   * Ask the model for vectors of this size (the API's `dimensions` parameter; text-embedding-3
   * models support it). Also fixes {@link Embedder.dim} before the first request.
   */
  dimensions?: number;
  /** Extra headers on every request (e.g. an organisation or an Azure `api-key`). */
  headers?: Record<string, string>;
}

/** An {@link Embedder} over an OpenAI-compatible API. */
export interface OpenAIEmbedder extends Embedder {
  /** The model name sent to the API. */
  readonly model: string;
  /** The base URL used (without a trailing slash). */
  readonly baseUrl: string;
  /** HTTP requests sent so far, retries included. */
  readonly requests: number;
}

/** Decode one `embedding` value: a number array, or base64 little-endian float32 (`encoding_format: base64`). */
function decodeEmbedding(v: unknown): ArrayLike<number> | undefined {
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'string') {
    const buf = Buffer.from(v, 'base64');
    if (buf.length % 4 !== 0) return undefined;
    const out = new Float32Array(buf.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
    return out;
  }
  return undefined;
}

/**
 * Create an embedder over an OpenAI-compatible `/embeddings` endpoint. Resolves without any
 * network traffic.
 *
 * **Dimension.** `dim` equals `options.dimensions` when given; otherwise it is `0` until the first
 * response arrives and then the dimension the server returned. Every later response must match.
 *
 * **Cache key.** `modelId` is `openai:<model>` (plus `:<dimensions>` when set); it does not
 * include the base URL, so two servers serving the same model name share cache entries.
 *
 * Empty texts are rejected (`InvalidArgumentError` naming `texts[i]`): the OpenAI API refuses them.
 */
export async function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Promise<OpenAIEmbedder> {
  if (!options || typeof options.model !== 'string' || options.model.trim() === '') {
    throw new InvalidArgumentError('model', 'an OpenAI-compatible embedder needs a model name, e.g. text-embedding-3-small');
  }
  const model = options.model;
  const { baseUrl, url, headers, secrets } = apiEndpoint(options, '/embeddings', OPENAI_DEFAULT_BASE_URL);
  const batchSizeDefault = intOption('batchSize', options.batchSize, 128);
  const concurrency = intOption('concurrency', options.concurrency, 4);
  const timeoutMs = intOption('timeoutMs', options.timeoutMs, 60_000);
  const maxRetries = intOption('maxRetries', options.maxRetries, 5, 0);
  const baseDelayMs = intOption('retryBaseDelayMs', options.retryBaseDelayMs, 500, 0);
  const maxDelayMs = intOption('retryMaxDelayMs', options.retryMaxDelayMs, 60_000, 0);
  const dimensions = options.dimensions === undefined ? undefined : intOption('dimensions', options.dimensions, 0);
  const what = `OpenAI-compatible embeddings (model ${model})`;

  let dim = dimensions ?? 0;
  let requests = 0;

  /** Embed one batch; returns `batch.length × dim` normalised rows. */
  const embedBatch = async (batch: readonly string[], first: number, signal: AbortSignal): Promise<Float32Array> => {
    const body: Record<string, unknown> = { model, input: batch };
    if (dimensions !== undefined) body.dimensions = dimensions;
    const json = await postJson(url, body, {
      headers,
      timeoutMs,
      maxRetries,
      baseDelayMs,
      maxDelayMs,
      signal,
      secrets,
      what,
      onRetry: () => {
        requests++;
      },
    }).finally(() => {
      requests++;
    });
    const bad = (msg: string) => new SynapseError(`${what}: bad response from ${url}: ${msg}`, 'BAD_RESPONSE');
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw bad('no "data" array');
    if (data.length !== batch.length) throw bad(`${data.length} embeddings for ${batch.length} inputs`);
    const rows: Array<ArrayLike<number> | undefined> = Array.from({ length: batch.length }, () => undefined);
    for (let p = 0; p < data.length; p++) {
      const item = data[p] as { embedding?: unknown; index?: unknown } | null;
      const idx = item && typeof item.index === 'number' ? item.index : p;
      if (!Number.isInteger(idx) || idx < 0 || idx >= batch.length) throw bad(`item ${p} has index ${String(idx)}`);
      if (rows[idx] !== undefined) throw bad(`index ${idx} appears twice`);
      const emb = decodeEmbedding(item?.embedding);
      if (!emb) throw bad(`item ${p} has no embedding array`);
      rows[idx] = emb;
    }
    const d = rows[0]!.length;
    if (d === 0) throw bad('empty embedding');
    if (dim === 0) dim = d;
    const out = new Float32Array(batch.length * dim);
    for (let r = 0; r < batch.length; r++) {
      const v = rows[r]!;
      if (v.length !== dim) {
        throw bad(`embedding of text ${first + r} has dimension ${v.length}, expected ${dim}`);
      }
      let ss = 0;
      for (let c = 0; c < dim; c++) {
        const x = v[c];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          throw bad(`embedding of text ${first + r} has a non-finite value at position ${c}`);
        }
        ss += x * x;
      }
      if (!(ss > 0)) throw bad(`embedding of text ${first + r} is all zeros`);
      const inv = 1 / Math.sqrt(ss);
      const o = r * dim;
      for (let c = 0; c < dim; c++) out[o + c] = v[c] * inv;
    }
    return out;
  };

  const embed = async (texts: readonly string[], opts: EmbedOptions = {}): Promise<Float32Array> => {
    if (!Array.isArray(texts)) throw new InvalidArgumentError('texts', 'must be an array of strings');
    for (let i = 0; i < texts.length; i++) {
      if (typeof texts[i] !== 'string') throw new InvalidArgumentError(`texts[${i}]`, 'must be a string');
      if (texts[i].trim() === '') {
        throw new InvalidArgumentError(`texts[${i}]`, 'is empty or whitespace-only; OpenAI-compatible APIs reject empty input');
      }
    }
    const batchSize = intOption('batchSize', opts.batchSize, batchSizeDefault);
    opts.signal?.throwIfAborted();
    if (texts.length === 0) return new Float32Array(0);
    // One failed batch aborts the others instead of letting them run to completion.
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const starts: number[] = [];
    for (let s = 0; s < texts.length; s += batchSize) starts.push(s);
    let done = 0;
    try {
      const parts = await mapLimit(starts, concurrency, async (s) => {
        try {
          const part = await embedBatch(texts.slice(s, s + batchSize), s, ctrl.signal);
          done += part.length / dim;
          opts.onProgress?.({ done, total: texts.length });
          return part;
        } catch (e) {
          if (!ctrl.signal.aborted) ctrl.abort(e);
          throw e;
        }
      });
      const out = new Float32Array(texts.length * dim);
      for (let b = 0; b < parts.length; b++) {
        if (parts[b].length !== Math.min(batchSize, texts.length - starts[b]) * dim) {
          throw new SynapseError(`${what}: the server changed the embedding dimension between requests`, 'BAD_RESPONSE');
        }
        out.set(parts[b], starts[b] * dim);
      }
      return out;
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    modelId: dimensions === undefined ? `openai:${model}` : `openai:${model}:${dimensions}`,
    get dim() {
      return dim;
    },
    model,
    baseUrl,
    get requests() {
      return requests;
    },
    embed,
  };
}

