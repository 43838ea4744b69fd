/**
 * The SST-2 setting of the paper's Table 1, from ../shared/data: all 29,780 negatives of the
 * train split plus 3,308 positives drawn with a fixed seed (33,088 rows, 10 % positive), and the
 * SuperGen LLM-written positive reviews as the synthetic set (a public stand-in for the paper's
 * GPT-written set). Embeddings are cached in experiments/cache/ per embedder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { resolveEmbedder } from '../../src/embed/index';
import { matrix, type Matrix } from '../../src/kernels';
import { readVectors, writeNpyFloat32 } from '../../src/io/vectors';
import { loadSst2Corpus, loadSyntheticAll, loadSyntheticPositives } from './corpus';

export const CACHE = path.join(__dirname, '..', 'cache');

/** The imbalanced corpus and the synthetic positives, embedded. */
export interface Sst2Data {
  texts: string[];
  labels: boolean[];
  corpus: Matrix;
  synthetic: Matrix;
  syntheticTexts: string[];
  embedder: string;
}

export async function embedCached(name: string, spec: string, texts: string[]): Promise<Matrix> {
  const file = path.join(CACHE, `${name}-${spec.replace(/[^\w.-]+/g, '_')}.npy`);
  if (existsSync(file)) return readVectors(file, { flag: file, rows: texts.length });
  mkdirSync(CACHE, { recursive: true });
  const embedder = await resolveEmbedder(spec);
  const t = performance.now();
  const v = await embedder.embed(texts, { batchSize: 256 });
  process.stderr.write(`embedded ${texts.length} ${name} texts with ${spec} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  await writeNpyFloat32(file, v, [texts.length, embedder.dim]);
  return matrix(v, embedder.dim, name);
}

/** Load (and embed on first use) the SST-2 setting with embedder `spec`. */
export async function loadSst2(spec = 'default'): Promise<Sst2Data> {
  const { texts, labels } = loadSst2Corpus();
  const syntheticTexts = loadSyntheticPositives();
  const corpus = await embedCached('sst2-corpus', spec, texts);
  const synthetic = await embedCached('sst2-synthetic', spec, syntheticTexts);
  return { texts, labels, corpus, synthetic, syntheticTexts, embedder: spec };
}

/** Every SuperGen text (both sentiments) and its embedding, for topical events. */
export async function loadSyntheticAllEmbedded(spec = 'default'): Promise<{ texts: string[]; vectors: Matrix }> {
  const texts = loadSyntheticAll();
  return { texts, vectors: await embedCached('supergen-all', spec, texts) };
}
