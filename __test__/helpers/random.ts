/** Small deterministic generators shared by the tests. */

/** Mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A rows × dim matrix of uniform values in [-1, 1). */
export function randomMatrix(rows: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  return out;
}

/** Cosine similarity of row i of a and row j of b, in float64. */
export function cosine(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let p = 0; p < dim; p++) {
    const x = a[i * dim + p];
    const y = b[j * dim + p];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** A planted rare-event corpus: positives around `clusters` centres, negatives spread widely. */
export interface PlantedCorpus {
  corpus: Float32Array;
  labels: boolean[];
  seeds: Float32Array;
  dim: number;
}

/**
 * `n` rows of which `positives` lie near one of `clusters` positive centres (noise `spread`), the
 * rest uniform; `numSeeds` seeds near the same centres (as LLM-written positives would be).
 */
export function plantedCorpus(n: number, positives: number, numSeeds: number, seed: number, dim = 16, clusters = 3, spread = 0.35): PlantedCorpus {
  const r = rng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres: number[][] = [];
  for (let c = 0; c < clusters; c++) centres.push(Array.from({ length: dim }, () => gauss()));
  const near = (out: Float32Array, row: number): void => {
    const c = centres[Math.floor(r() * clusters)];
    for (let j = 0; j < dim; j++) out[row * dim + j] = c[j] + spread * gauss();
  };
  const corpus = new Float32Array(n * dim);
  const labels: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const pos = i % Math.round(n / positives) === 0 && labels.filter(Boolean).length < positives;
    labels.push(pos);
    if (pos) near(corpus, i);
    else for (let j = 0; j < dim; j++) corpus[i * dim + j] = gauss();
  }
  const seeds = new Float32Array(numSeeds * dim);
  for (let s = 0; s < numSeeds; s++) near(seeds, s);
  return { corpus, labels, seeds, dim };
}
