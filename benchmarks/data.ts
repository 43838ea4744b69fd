/**
 * Seeded benchmark data, written once to benchmarks/out/ as raw little-endian files so that
 * ours and the peers read exactly the same bytes.
 *
 * Vectors are L2-normalised Gaussian clusters (like sentence embeddings: many topics, each a
 * cloud around a centre) with a per-cluster spread, so a cosine threshold of 0.7 keeps the
 * edges of tight clusters and drops those of loose ones.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const OUT_DIR = join(__dirname, 'out');

/** Mulberry32 PRNG: floats in [0, 1). */
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

/** Standard normal samples (Box-Muller) from a uniform generator. */
function gaussian(u: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

function normalizeRows(m: Float32Array, dim: number): void {
  for (let o = 0; o < m.length; o += dim) {
    let s = 0;
    for (let p = 0; p < dim; p++) s += m[o + p] * m[o + p];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = 0; p < dim; p++) m[o + p] *= inv;
  }
}

/**
 * `rows × dim` unit vectors around `clusters` random unit centres. Cluster c has spread
 * σ_c² · dim uniform in [0.1, 1.2], i.e. typical within-cluster cosine 1 / (1 + σ_c² · dim)
 * between about 0.45 and 0.9.
 */
export function clustered(rows: number, dim: number, clusters: number, seed: number): Float32Array {
  const u = rng(seed);
  const g = gaussian(u);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  normalizeRows(centres, dim);
  const sigma = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) sigma[c] = Math.sqrt((0.1 + 1.1 * u()) / dim);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const c = Math.floor(u() * clusters);
    const s = sigma[c];
    for (let p = 0; p < dim; p++) out[i * dim + p] = centres[c * dim + p] + s * g();
  }
  normalizeRows(out, dim);
  return out;
}

/** Queries: noisy copies of random corpus rows (seeds written near real positives). */
export function queriesNear(corpus: Float32Array, dim: number, n: number, seed: number): Float32Array {
  const u = rng(seed);
  const g = gaussian(u);
  const rows = corpus.length / dim;
  const out = new Float32Array(n * dim);
  const s = Math.sqrt(0.3 / dim);
  for (let i = 0; i < n; i++) {
    const r = Math.floor(u() * rows);
    for (let p = 0; p < dim; p++) out[i * dim + p] = corpus[r * dim + p] + s * g();
  }
  normalizeRows(out, dim);
  return out;
}

/** A random graph: `n` rows with `deg` distinct-ish uniform neighbours each (no self loops). */
export function randomGraph(n: number, deg: number, seed: number): { offsets: Uint32Array; ids: Uint32Array } {
  const u = rng(seed);
  const offsets = new Uint32Array(n + 1);
  const ids = new Uint32Array(n * deg);
  for (let i = 0; i < n; i++) {
    offsets[i + 1] = (i + 1) * deg;
    for (let e = 0; e < deg; e++) {
      let j = Math.floor(u() * n);
      if (j === i) j = (j + 1) % n;
      ids[i * deg + e] = j;
    }
  }
  return { offsets, ids };
}

/** Labels for propagation: 1 % of rows clamped, a tenth of them positive. */
export function labels(n: number, seed: number): { y0: Float32Array; clamp: Uint8Array } {
  const u = rng(seed);
  const y0 = new Float32Array(n);
  const clamp = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (u() < 0.01) {
      clamp[i] = 1;
      y0[i] = u() < 0.1 ? 1 : -1;
    }
  }
  return { y0, clamp };
}

type Typed = Float32Array | Uint32Array | Uint8Array;

/** Write a typed array as raw bytes (atomically). */
export function save(name: string, a: Typed): void {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, name);
  writeFileSync(`${path}.tmp`, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  renameSync(`${path}.tmp`, path);
}

/** Read a file straight into a fresh buffer (no intermediate copy, so RSS is input + 0). */
function bytes(name: string): ArrayBuffer {
  const fd = openSync(join(OUT_DIR, name), 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = new ArrayBuffer(size);
    const view = new Uint8Array(buf);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, view, done, Math.min(size - done, 1 << 30), done);
      if (n <= 0) throw new Error(`short read of ${name}`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function loadF32(name: string): Float32Array {
  return new Float32Array(bytes(name));
}

export function loadU32(name: string): Uint32Array {
  return new Uint32Array(bytes(name));
}

export function loadU8(name: string): Uint8Array {
  return new Uint8Array(bytes(name));
}

export function exists(name: string): boolean {
  return existsSync(join(OUT_DIR, name));
}
