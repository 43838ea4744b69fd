/**
 * The one interface every text embedder implements (default USE-lite, local Hugging Face
 * folders, OpenAI-compatible APIs, precomputed vectors), so the pipeline never cares which.
 */

/** Progress of a long embedding job. */
export interface EmbedProgress {
  /** Texts embedded so far. */
  done: number;
  /** Texts in the job. */
  total: number;
}

/** Options of {@link Embedder.embed}. */
export interface EmbedOptions {
  /** Texts per model call. Each embedder has its own default. */
  batchSize?: number;
  /** Abort the job; the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Called after each batch. */
  onProgress?: (progress: EmbedProgress) => void;
}

/** A text embedder. */
export interface Embedder {
  /** Stable id of the model, e.g. `use-lite` or `hf:all-MiniLM-L6-v2`; keys the disk cache. */
  readonly modelId: string;
  /** Output dimension. */
  readonly dim: number;
  /** Embed `texts` into a row-major `texts.length × dim` matrix of L2-normalised rows. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array>;
  /** Release native resources (sessions, sockets). Optional. */
  close?(): Promise<void>;
}
