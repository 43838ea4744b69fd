/**
 * Seed selection from the LLM-written synthetic set (SYNAPSE-G §4.1): uniform random sampling,
 * and Adaptive Coverage Sampling (ACS), which picks `k` diverse rows covering a `c`-portion.
 */
export { selectRandomSeeds } from './random';
export { selectAcsSeeds } from './acs';
export type { AcsOptions, AcsResult } from './acs';
