/** A small seeded generator for the parts of mining that draw at random (baselines, LR subsets). */
import { uint32Stream } from '../seeds/random';

/** Seeded uniform draws; the same seed always gives the same sequence. */
export class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = uint32Stream((seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000) | 0, 0x27d4eb2d));
  }

  /** A uniform integer in `[0, m)`, `1 <= m <= 2^32` (rejection sampling, exactly uniform). */
  below(m: number): number {
    if (m <= 1) return 0;
    const limit = 0x100000000 - (0x100000000 % m);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % m;
    }
  }

  /** Shuffle `a` in place (Fisher–Yates) and return it. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** `k` distinct values drawn uniformly from `pool` (all of them, shuffled, when `k >= length`). */
  sample(pool: Uint32Array, k: number): Uint32Array {
    const a = Uint32Array.from(pool);
    const m = Math.min(k, a.length);
    for (let i = 0; i < m; i++) {
      const j = i + this.below(a.length - i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a.subarray(0, m);
  }
}
