import test from 'ava';
import { InvalidArgumentError, selectRandomSeeds } from '../src/index';

test('selectRandomSeeds returns k distinct in-range indices, deterministic per seed', (t) => {
  const a = selectRandomSeeds(1000, 100, 42);
  const b = selectRandomSeeds(1000, 100, 42);
  const c = selectRandomSeeds(1000, 100, 43);
  t.is(a.length, 100);
  t.true(a instanceof Uint32Array);
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  t.is(new Set(a).size, 100);
  for (const i of a) t.true(i < 1000);
});

test('selectRandomSeeds with k >= n returns a permutation of all rows', (t) => {
  const a = selectRandomSeeds(50, 80, 7);
  t.is(a.length, 50);
  t.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  t.deepEqual([...selectRandomSeeds(1, 1, 0)], [0]);
});

test('selectRandomSeeds is uniform: every index is drawn about equally often', (t) => {
  const n = 20;
  const counts = Array.from({ length: n }, () => 0);
  const draws = 4000;
  for (let s = 0; s < draws; s++) for (const i of selectRandomSeeds(n, 5, s)) counts[i]++;
  const expected = (draws * 5) / n; // 1000
  // Binomial sd is about 27; 6 sd is a very loose bound that still catches a biased sampler.
  for (const c of counts) t.true(Math.abs(c - expected) < 170, `count ${c}`);
  // The first draw alone is uniform too (not biased towards low indices).
  const first = Array.from({ length: n }, () => 0);
  for (let s = 0; s < draws; s++) first[selectRandomSeeds(n, 1, s)[0]]++;
  for (const c of first) t.true(Math.abs(c - draws / n) < 80, `first ${c}`);
});

test('selectRandomSeeds works for huge n without allocating n', (t) => {
  const a = selectRandomSeeds(4_000_000_000, 1000, 1);
  t.is(new Set(a).size, 1000);
  t.true(a.some((i) => i > 2 ** 31)); // the upper half of the range is reachable
});

test('selectRandomSeeds rejects bad arguments naming them', (t) => {
  for (const [n, k, s, arg] of [
    [0, 1, 1, 'n'],
    [1.5, 1, 1, 'n'],
    [Number.NaN, 1, 1, 'n'],
    [10, 0, 1, 'k'],
    [10, -2, 1, 'k'],
    [10, 2.5, 1, 'k'],
    [10, 2, 0.5, 'seed'],
    [10, 2, Number.POSITIVE_INFINITY, 'seed'],
  ] as const) {
    const e = t.throws(() => selectRandomSeeds(n, k, s), { instanceOf: InvalidArgumentError });
    t.is((e as InvalidArgumentError).argument, arg);
  }
});
