/**
 * synapse-g: positive mining from LLM seeds (SYNAPSE-G, Tavakkol et al., KDD'25 MLoG-GenAI).
 *
 * The one import users need. Kernels (similarity graphs, propagation, candidate selection) are
 * in Rust; everything here is typed and documented.
 */
export * from './errors';
export * from './kernels';
export * from './embed/default';
export * from './embed';
export * from './seeds';
export * from './report';
export * from './embed/hf';
export * from './oracle';
export * from './strategies';
export * from './mine';
export * from './defaults';
export * from './spread';
export * from './classifier/logistic';
export { Random } from './util/random';
export * from './io';
export * from './theory';
export * from './session';
export * from './classifier/model';
export * from './ann';
export * from './scale/mine-large';
export * from './llm';
