/**
 * The embedder registry: turn a spec string (`default`, `hf:DIR`, `openai:MODEL`) into an
 * {@link Embedder}, wrapped with the disk cache unless asked not to. Also re-exports the
 * embedder API.
 */
import { InvalidArgumentError, SynapseError } from '../errors';
import { withCache } from './cache';
import type { Embedder } from './embedder';
import { createOpenAIEmbedder, type OpenAIEmbedderOptions } from './openai';

export type { EmbedOptions, EmbedProgress, Embedder } from './embedder';
export * from './openai';
export * from './cache';
export { HttpError } from '../util/http';

/** The spec forms {@link resolveEmbedder} accepts, for help texts and errors. */
export const EMBEDDER_SPECS: readonly string[] = [
  'default (USE-lite, 512-d, offline)',
  'hf:DIR (a local Hugging Face sentence-transformers folder)',
  'openai:MODEL (an OpenAI-compatible /v1/embeddings API; OPENAI_BASE_URL, OPENAI_API_KEY)',
];

/** Options of {@link resolveEmbedder}. */
export interface ResolveEmbedderOptions {
  /** Cache root; default env `SYNAPSE_G_CACHE_DIR`, else `~/.cache/synapse-g`. */
  cacheDir?: string;
  /** Do not wrap the embedder with the disk cache. */
  noCache?: boolean;
  /** Default texts per model call (each embedder's own default otherwise). */
  batchSize?: number;
  /** Extra options for `openai:` embedders (model, base URL and key come from the spec and env). */
  openai?: Omit<Partial<OpenAIEmbedderOptions>, 'model'>;
  /** Name used in errors, e.g. `--model`. Default `embedder`. */
  argument?: string;
}

/** Shape of `./hf` (loaded lazily: it pulls in a native model runtime). */
interface HfModule {
  createHfEmbedder(dir: string, options?: { batchSize?: number }): Promise<Embedder>;
}

/**
 * Create the embedder named by `spec`:
 * - `default` (or `use-lite`): the built-in USE-lite model, offline;
 * - `hf:DIR`: a local Hugging Face model folder;
 * - `openai:MODEL`: an OpenAI-compatible API (`OPENAI_BASE_URL`, `OPENAI_API_KEY`).
 *
 * The result is wrapped with {@link withCache} unless `options.noCache`. An unknown spec throws
 * an {@link InvalidArgumentError} (named `options.argument`) listing the valid forms. Heavy
 * backends are imported only when asked for.
 */
export async function resolveEmbedder(spec: string, options: ResolveEmbedderOptions = {}): Promise<Embedder> {
  const argument = options.argument ?? 'embedder';
  const valid = `valid forms: ${EMBEDDER_SPECS.join('; ')}`;
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new InvalidArgumentError(argument, `is empty; ${valid}`);
  }
  const s = spec.trim();
  let embedder: Embedder;
  if (s === 'default' || s === 'use-lite') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: ONNX Runtime loads only when used
    const mod = require('./default') as typeof import('./default');
    embedder = await mod.createDefaultEmbedder({
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    });
  } else if (s.startsWith('hf:')) {
    const dir = s.slice(3);
    if (dir === '') throw new InvalidArgumentError(argument, `hf: needs a folder, e.g. hf:./all-MiniLM-L6-v2; ${valid}`);
    // A non-literal specifier keeps this file independent of the hf backend at compile time.
    const hfPath = './hf';
    let mod: HfModule;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: the native runtime loads only when used
      mod = require(hfPath) as HfModule;
    } catch (e) {
      throw new SynapseError(`the hf: embedder is not available in this build: ${(e as Error).message}`, 'UNAVAILABLE', { cause: e });
    }
    try {
      embedder = await mod.createHfEmbedder(dir, options.batchSize !== undefined ? { batchSize: options.batchSize } : {});
    } catch (e) {
      // Name the flag/argument the user typed, not the backend's parameter.
      if (e instanceof InvalidArgumentError && e.argument === 'dir') {
        throw new InvalidArgumentError(argument, `${s}: ${e.message.replace(/^dir: /, '')}`, { cause: e });
      }
      throw e;
    }
  } else if (s.startsWith('openai:')) {
    const model = s.slice(7);
    if (model === '') throw new InvalidArgumentError(argument, `openai: needs a model name, e.g. openai:text-embedding-3-small; ${valid}`);
    embedder = await createOpenAIEmbedder({
      ...options.openai,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      model,
    });
  } else {
    throw new InvalidArgumentError(argument, `unknown embedder ${JSON.stringify(spec)}; ${valid}`);
  }
  if (options.noCache) return embedder;
  return withCache(embedder, options.cacheDir !== undefined ? { dir: options.cacheDir } : {});
}
