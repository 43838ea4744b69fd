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
