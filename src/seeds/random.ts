/**
 * Uniform random seed selection: `k` distinct row indices out of `n`, reproducible from a seed.
 */
import { InvalidArgumentError } from '../errors';

/** Largest `n` accepted (indices are returned as 32-bit unsigned integers). */
const MAX_ROWS = 0xffffffff;

/** SplitMix32-style seeded generator of uniform unsigned 32-bit integers. */
export function uint32Stream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** An exactly uniform integer in `[0, m)` for `1 <= m <= 2^32`, by rejection sampling. */
function below(next: () => number, m: number): number {
  if (m === 1) return 0;
  const limit = 0x100000000 - (0x100000000 % m); // multiples of m below 2^32
  for (;;) {
    const x = next();
    if (x < limit) return x % m;
  }
}

/**
 * `k` distinct indices drawn uniformly at random from `0 .. n-1`, in draw order, deterministic
 * for a given `seed` (a partial Fisher–Yates shuffle: O(k) time and memory, whatever `n`).
 * When `k >= n` every index is returned, in a random order.
 *
 * @param n number of rows to choose from (a positive integer)
 * @param k number of seeds wanted (a positive integer)
 * @param seed any integer; the same `(n, k, seed)` always gives the same indices
 * @throws InvalidArgumentError naming `n`, `k` or `seed` when one is malformed
 */
export function selectRandomSeeds(n: number, k: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n <= 0 || n > MAX_ROWS) {
    throw new InvalidArgumentError('n', `must be a positive integer below 2^32, got ${n}`);
  }
  if (!Number.isInteger(k) || k <= 0) {
    throw new InvalidArgumentError('k', `must be a positive integer, got ${k}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError('seed', `must be an integer, got ${seed}`);
  }
  const m = Math.min(k, n);
  // Mix the high bits of large seeds in too, so seeds differing only above bit 32 differ.
  const next = uint32Stream((seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000) | 0, 0x27d4eb2d));
  const out = new Uint32Array(m);
  // Sparse Fisher–Yates: `swapped` holds only the positions moved so far.
  const swapped = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    const j = i + below(next, n - i);
    const vj = swapped.get(j) ?? j;
    const vi = swapped.get(i) ?? i;
    out[i] = vj;
    swapped.set(j, vi);
    swapped.delete(i);
  }
  return out;
}
