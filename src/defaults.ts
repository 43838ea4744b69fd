/**
 * Default method parameters, by method and embedder, chosen from the SST-2 experiment
 * (experiments/README.md has the numbers):
 *
 * - GBLE propagates over a k-nearest-neighbour graph (`d_max = 20`) with `τ = 0`: the graph's
 *   shape then comes from ranks, not from an absolute similarity, so the same default works for
 *   embedders whose cosines sit anywhere (USE-lite and MiniLM spread low, e5 and OpenAI models sit
 *   high). `K0 = 25`, `T = 10` steps, negatives clamped to `-1` (better early recall than `0`,
 *   the same at 10 %).
 * - IBG and the one-shot bipartite method take every neighbour above `τ`, so `τ` decides how many
 *   rows a round queries and must suit the embedder: `0.5` for USE-lite and MiniLM-class models
 *   (at the paper's `0.7` a USE-lite corpus row rarely has an edge), the paper's `0.7` otherwise.
 */
import type { MethodParams, MiningMethod } from './strategies/index';

/** Parameters every method falls back to. */
export const DEFAULT_METHOD_PARAMS: Readonly<MethodParams> = {
  tau: 0.7,
  dmax: 20,
  k0: 25,
  iterations: 10,
  negativeLabel: -1,
};

/** Bipartite-graph `τ` by embedder id prefix (lower case; the first match wins). */
const BIPARTITE_TAU: readonly { prefix: string; tau: number }[] = [
  { prefix: 'default', tau: 0.5 },
  { prefix: 'use-lite', tau: 0.5 },
  { prefix: 'hf:', tau: 0.5 },
];

/**
 * The default parameters of `method` for an embedder spec or model id (`default`, `use-lite`,
 * `hf:DIR`, `openai:MODEL`; `undefined` for precomputed vectors of unknown origin).
 */
export function defaultParamsFor(embedder: string | undefined, method?: MiningMethod): MethodParams {
  if (method === 'gble' || method === 'auto') return { ...DEFAULT_METHOD_PARAMS, tau: 0 };
  const e = (embedder ?? '').toLowerCase();
  const hit = BIPARTITE_TAU.find((d) => e.startsWith(d.prefix));
  return { ...DEFAULT_METHOD_PARAMS, ...(hit ? { tau: hit.tau } : {}) };
}
