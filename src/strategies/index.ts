/** The mining methods, by name. */
import type { AnnBackend, GraphIndex } from '../ann';
import { InvalidArgumentError } from '../errors';
import { createNnStrategy, createRandomStrategy } from './baselines';
import { createBipartiteStrategy } from './bipartite';
import { createGbleStrategy } from './gble';
import { createIbgStrategy } from './ibg';
import { createLrStrategy } from './lr';
import { createAutoStrategy } from './auto';
import { createSealsStrategy } from './seals';
import type { Strategy } from './strategy';

export { createBipartiteStrategy, bipartiteCandidates, type GraphParams } from './bipartite';
export { createIbgStrategy } from './ibg';
export { corpusGraph, createGbleStrategy, gbleGraph, type GbleParams } from './gble';
export { createNnStrategy, createRandomStrategy } from './baselines';
export { createLrStrategy, type LrParams } from './lr';
export { createAutoStrategy } from './auto';
export { createSealsStrategy, type SealsParams } from './seals';
export { createSeedClassifier, type SeedClassifier } from './classifier';
export * from './strategy';

/** Every method `mine` accepts. */
export const MINING_METHODS = ['auto', 'gble', 'ibg', 'bipartite', 'seals', 'nn', 'lr', 'random'] as const;
/** A mining method's name. */
export type MiningMethod = (typeof MINING_METHODS)[number];

/** Every tunable of every method; each method reads the ones it needs. */
export interface MethodParams {
  /** Similarity threshold `τ` of the graph methods. */
  tau: number;
  /** Neighbours per node `d_max` of the graph methods. */
  dmax: number;
  /** `K0`: rows a round for the baselines, target new positives a round for gble and lr. */
  k0: number;
  /** LR baseline: unlabeled rows scored a round, `B` (`undefined` = all). */
  budget?: number;
  /** GBLE propagation steps a round. */
  iterations: number;
  /** GBLE: value oracle negatives are clamped to. */
  negativeLabel: number;
  /** GBLE/auto: `exact` (default), `hnsw` or `ivf` corpus graph. */
  index?: GraphIndex;
  /** GBLE/auto with an approximate index: `usearch` or `faiss` (ivf: faiss only). */
  annBackend?: AnnBackend;
}

/** Is `s` a method name? */
export function isMiningMethod(s: string): s is MiningMethod {
  return (MINING_METHODS as readonly string[]).includes(s);
}

/** A fresh strategy for `method`. */
export function createStrategy(method: MiningMethod | string, params: MethodParams, flag = 'method'): Strategy {
  switch (method) {
    case 'auto':
      return createAutoStrategy(params);
    case 'gble':
      return createGbleStrategy(params);
    case 'seals':
      return createSealsStrategy(params);
    case 'ibg':
      return createIbgStrategy(params);
    case 'bipartite':
      return createBipartiteStrategy(params);
    case 'nn':
      return createNnStrategy(params.k0);
    case 'lr':
      return createLrStrategy(params);
    case 'random':
      return createRandomStrategy(params.k0);
    default:
      throw new InvalidArgumentError(flag, `unknown method ${JSON.stringify(method)}; expected one of ${MINING_METHODS.join(', ')}`);
  }
}
