import test from 'ava';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, matrix, selectAcsSeeds } from '../src/index';
import { buildCoverageGraph, greedyCover } from '../src/seeds/acs';
import { cosine, randomMatrix } from './helpers/random';

/** Textbook greedy max-coverage on G_t built by brute force in float64 (no heap, no kernel). */
function bruteGreedy(
  data: Float32Array,
  dim: number,
  t: number,
  k: number,
  cap?: number,
): { picks: number[]; covered: number } {
  const n = data.length / dim;
  const sim: number[][] = [];
  for (let i = 0; i < n; i++) {
    sim.push([]);
    for (let j = 0; j < n; j++) sim[i].push(i === j ? 1 : cosine(data, i, data, j, dim));
  }
  const adj: boolean[][] = Array.from({ length: n }, () => Array.from({ length: n }, () => false));
  for (let i = 0; i < n; i++) {
    const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    others.sort((a, b) => sim[i][b] - sim[i][a] || a - b);
    const kept = cap === undefined ? others : others.slice(0, cap);
    for (const j of kept) {
      if (sim[i][j] >= t) {
        adj[i][j] = true;
        adj[j][i] = true;
      }
    }
  }
  const covered = Array.from({ length: n }, () => false);
  const picks: number[] = [];
  let nc = 0;
  while (picks.length < k && nc < n) {
    let bestV = -1;
    let bestG = -1;
    for (let v = 0; v < n; v++) {
      if (covered[v]) continue;
      let g = 1;
      for (let u = 0; u < n; u++) if (adj[v][u] && !covered[u]) g++;
      if (g > bestG) {
        bestG = g;
        bestV = v;
      }
    }
    picks.push(bestV);
    covered[bestV] = true;
    nc++;
    for (let u = 0; u < n; u++) {
      if (adj[bestV][u] && !covered[u]) {
        covered[u] = true;
        nc++;
      }
    }
  }
  return { picks, covered: nc };
}

test('lazy greedy on the kernel graph equals the brute-force greedy', async (t) => {
  const dim = 6;
  const n = 150;
  const data = randomMatrix(n, dim, 11);
  const graph = await buildCoverageGraph(matrix(data, dim), 0.3);
  for (const th of [0.3, 0.55, 0.8, 0.95]) {
    for (const k of [1, 5, 20, 200]) {
      const want = bruteGreedy(data, dim, th, k);
      const got = greedyCover(graph, th, k);
      t.deepEqual([...got.picks], want.picks, `t=${th} k=${k}`);
      t.is(got.covered, want.covered);
    }
  }
  // Negative thresholds too (the sort keys handle negative similarities).
  const wide = await buildCoverageGraph(matrix(data, dim), -0.5);
  for (const th of [-0.5, -0.1, 0.6]) {
    const want = bruteGreedy(data, dim, th, 4);
    const got = greedyCover(wide, th, 4);
    t.deepEqual([...got.picks], want.picks, `t=${th}`);
    t.is(got.covered, want.covered);
  }
  // With a degree cap: each node keeps its 7 best neighbours, then the graph is made undirected.
  const capped = await buildCoverageGraph(matrix(data, dim), 0.3, 7);
  for (const th of [0.3, 0.7]) {
    const want = bruteGreedy(data, dim, th, 10, 7);
    const got = greedyCover(capped, th, 10);
    t.deepEqual([...got.picks], want.picks, `capped t=${th}`);
    t.is(got.covered, want.covered);
  }
});

test('coverage graph is undirected and sorted best first', async (t) => {
  const dim = 5;
  const data = randomMatrix(120, dim, 3);
  const g = await buildCoverageGraph(matrix(data, dim), 0.5, 4);
  const edges = new Map<string, number>();
  for (let i = 0; i < g.n; i++) {
    for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) {
      if (e > g.offsets[i]) t.true(g.sims[e - 1] >= g.sims[e]);
      t.not(g.ids[e], i);
      edges.set(`${i},${g.ids[e]}`, g.sims[e]);
    }
  }
  for (const [key, s] of edges) {
    const [i, j] = key.split(',');
    t.is(edges.get(`${j},${i}`), s, key);
  }
});

test('ACS: threshold falls as the coverage target rises, and rises with k', async (t) => {
  const dim = 8;
  const vectors = matrix(randomMatrix(300, dim, 5), dim);
  const opts = { tMin: 0.2 };
  let prev = Number.POSITIVE_INFINITY;
  for (const c of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    const r = await selectAcsSeeds(vectors, 10, { ...opts, coverage: c });
    t.true(r.reachedCoverage, `c=${c}`);
    t.true(r.coverage >= c, `c=${c} got ${r.coverage}`);
    t.true(r.threshold <= prev, `c=${c}`);
    t.true(r.threshold >= 0.2 && r.threshold <= 1);
    t.true(r.indices.length <= 10);
    prev = r.threshold;
  }
  t.true(prev < 0.9, 'a 90% target needs a lower threshold than the maximum');
  let last = Number.NEGATIVE_INFINITY;
  for (const k of [2, 5, 10, 20, 40]) {
    const r = await selectAcsSeeds(vectors, k, { ...opts, coverage: 0.6 });
    t.true(r.threshold >= last, `k=${k}`);
    last = r.threshold;
  }
  // The result is the greedy at the returned threshold, and a bit higher would miss the target.
  const r = await selectAcsSeeds(vectors, 10, { ...opts, coverage: 0.6, tolerance: 1e-5 });
  const g = await buildCoverageGraph(vectors, 0.2);
  const at = greedyCover(g, r.threshold, 10);
  t.deepEqual(at.picks, r.indices);
  t.is(at.covered / 300, r.coverage);
  t.true(greedyCover(g, r.threshold + 2e-5, 10).covered < 0.6 * 300);
});

test('ACS: c <= k/n gives t = tMax; k >= n picks every row', async (t) => {
  const dim = 4;
  const vectors = matrix(randomMatrix(10, dim, 9), dim);
  const all = await selectAcsSeeds(vectors, 15, { coverage: 1 });
  t.is(all.threshold, 1);
  t.is(all.coverage, 1);
  t.true(all.reachedCoverage);
  t.deepEqual([...all.indices], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const few = await selectAcsSeeds(vectors, 3, { coverage: 0.3 });
  t.is(few.threshold, 1);
  t.is(few.indices.length, 3);
  const one = await selectAcsSeeds(matrix(new Float32Array([1, 2]), 2), 1);
  t.deepEqual([...one.indices], [0]);
  t.is(one.coverage, 1);
});

test('ACS: duplicate rows cover each other at t = 1', async (t) => {
  const dim = 6;
  const base = randomMatrix(5, dim, 21);
  const data = new Float32Array(20 * dim);
  // Row r is a scaled copy of base row r % 5 (cosine 1 whatever the scale).
  for (let r = 0; r < 20; r++) {
    for (let p = 0; p < dim; p++) data[r * dim + p] = base[(r % 5) * dim + p] * (1 + (r >> 2));
  }
  const res = await selectAcsSeeds(matrix(data, dim), 8, { coverage: 1 });
  t.is(res.threshold, 1);
  t.is(res.coverage, 1);
  t.deepEqual([...res.indices], [0, 1, 2, 3, 4]); // one per group, then everything is covered
});

test('ACS: when even tMin cannot reach the target, the tMin picks come back flagged', async (t) => {
  const dim = 64;
  const vectors = matrix(randomMatrix(100, dim, 2), dim); // nearly orthogonal rows
  const r = await selectAcsSeeds(vectors, 2, { coverage: 0.9 });
  t.false(r.reachedCoverage);
  t.is(r.threshold, 0.707);
  t.is(r.indices.length, 2);
  t.true(r.coverage < 0.9);
});

test('ACS rejects bad arguments naming them', async (t) => {
  const v = matrix(randomMatrix(10, 3, 1), 3);
  const cases: Array<[number, Record<string, number>, string]> = [
    [0, {}, 'k'],
    [1.5, {}, 'k'],
    [3, { coverage: 0 }, 'coverage'],
    [3, { coverage: 1.01 }, 'coverage'],
    [3, { coverage: Number.NaN }, 'coverage'],
    [3, { tMin: 0.9, tMax: 0.8 }, 'tMin'],
    [3, { tMax: 1.5 }, 'tMax'],
    [3, { degreeCap: 0 }, 'degreeCap'],
    [3, { tolerance: 0 }, 'tolerance'],
  ];
  for (const [k, o, arg] of cases) {
    const e = await t.throwsAsync(selectAcsSeeds(v, k, o), { instanceOf: InvalidArgumentError });
    t.is((e as InvalidArgumentError).argument, arg, JSON.stringify(o));
  }
  const bad = { data: new Float32Array(5), dim: 2, rows: 3 };
  const e = await t.throwsAsync(selectAcsSeeds(bad, 2), { instanceOf: InvalidArgumentError });
  t.is((e as InvalidArgumentError).argument, 'vectors');
});

/** Signed feature hashing of word unigrams and bigrams: a quick deterministic embedding. */
function hashEmbed(texts: string[], dim: number): Float32Array {
  const out = new Float32Array(texts.length * dim);
  const fnv = (s: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return h;
  };
  texts.forEach((text, r) => {
    const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
    const feats = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
    for (const f of feats) {
      const h = fnv(f);
      out[r * dim + (h % dim)] += h & 0x80000000 ? -1 : 1;
    }
  });
  return out;
}

test('ACS on the SuperGen positives picks 100 mutually dissimilar seeds', async (t) => {
  const rows = JSON.parse(
    readFileSync('/work/shared/data/supergen-sst2/train.json', 'utf8'),
  ) as Array<{ text: string; label: string }>;
  const texts = rows.filter((r) => r.label === '1').map((r) => r.text);
  t.is(texts.length, 3000);
  const dim = 256;
  const data = hashEmbed(texts, dim);
  // Texts without a single word would be zero rows: give them a unique direction.
  for (let r = 0; r < texts.length; r++) {
    if (data.subarray(r * dim, (r + 1) * dim).every((x) => x === 0)) data[r * dim + (r % dim)] = 1;
  }
  const res = await selectAcsSeeds(matrix(data, dim), 100);
  t.is(res.indices.length, 100);
  t.is(new Set(res.indices).size, 100);
  t.true(res.threshold >= 0.707 && res.threshold <= 1, `threshold ${res.threshold}`);
  if (res.reachedCoverage) t.true(res.coverage >= 0.5);
  else t.is(res.threshold, 0.707);
  t.log(`threshold ${res.threshold.toFixed(4)} coverage ${res.coverage.toFixed(3)}`);
  // Every pick was uncovered when chosen, so no two picks are neighbours in G_t.
  const idx = [...res.indices];
  for (let a = 0; a < idx.length; a++) {
    for (let b = a + 1; b < idx.length; b++) {
      t.true(cosine(data, idx[a], data, idx[b], dim) < res.threshold + 1e-5);
    }
  }
  // Deterministic.
  const again = await selectAcsSeeds(matrix(data, dim), 100);
  t.deepEqual(again.indices, res.indices);
  t.is(again.threshold, res.threshold);
});
