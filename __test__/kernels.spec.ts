import test from 'ava';
import { Worker } from 'node:worker_threads';
import {
  bipartiteTopK,
  InvalidArgumentError,
  knnGraph,
  matrix,
  neighbours,
  normalize,
  propagate,
  topCandidates,
} from '../src/index';
import { cosine, randomMatrix } from './helpers/random';

function bruteTopK(q: Float32Array, c: Float32Array, dim: number, k: number, t: number) {
  const nq = q.length / dim;
  const nc = c.length / dim;
  const out: Array<Array<[number, number]>> = [];
  for (let i = 0; i < nq; i++) {
    const row: Array<[number, number]> = [];
    for (let j = 0; j < nc; j++) {
      const s = cosine(q, i, c, j, dim);
      if (s > t) row.push([s, j]);
    }
    row.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    out.push(row.slice(0, k));
  }
  return out;
}

test('bipartiteTopK matches brute force and returns CSR sorted best first', async (t) => {
  const dim = 16;
  const q = randomMatrix(40, dim, 1);
  const c = randomMatrix(3000, dim, 2);
  const g = await bipartiteTopK(matrix(q, dim, 'queries'), matrix(c, dim, 'corpus'), {
    k: 12,
    threshold: 0.3,
  });
  t.is(g.offsets.length, 41);
  const want = bruteTopK(q, c, dim, 12, 0.3);
  for (let i = 0; i < 40; i++) {
    const [ids, sims] = neighbours(g, i);
    t.is(ids.length, want[i].length, `row ${i}`);
    for (let p = 0; p < ids.length; p++) {
      t.true(Math.abs(sims[p] - want[i][p][0]) < 1e-4);
      if (p > 0) t.true(sims[p - 1] >= sims[p]);
    }
  }
});

test('bipartiteTopK skips excluded rows given as ids or as a mask', async (t) => {
  const dim = 8;
  const c = randomMatrix(500, dim, 3);
  const q = c.slice(dim * 7, dim * 8); // equal to corpus row 7
  const Q = matrix(q, dim);
  const C = matrix(c, dim);
  const plain = await bipartiteTopK(Q, C, { k: 5 });
  t.is(plain.ids[0], 7);
  t.true(Math.abs(plain.sims[0] - 1) < 1e-5);
  const byIds = await bipartiteTopK(Q, C, { k: 5, exclude: [7] });
  const mask = new Uint8Array(500);
  mask[7] = 1;
  const byMask = await bipartiteTopK(Q, C, { k: 5, exclude: mask });
  t.false(Array.from(byIds.ids).includes(7));
  t.deepEqual(Array.from(byIds.ids), Array.from(byMask.ids));
  t.deepEqual(Array.from(byIds.ids), Array.from(plain.ids.subarray(1, 5)).concat(byIds.ids[4]));
});

test('knnGraph excludes self and symmetrises', async (t) => {
  const dim = 12;
  const n = 800;
  const c = matrix(randomMatrix(n, dim, 4), dim);
  const directed = await knnGraph(c, { k: 6 });
  const sym = await knnGraph(c, { k: 6, symmetric: true });
  for (let i = 0; i < n; i++) {
    const [ids] = neighbours(directed, i);
    t.is(ids.length, 6);
    t.false(Array.from(ids).includes(i));
    const [sids] = neighbours(sym, i);
    for (const j of ids) t.true(Array.from(sids).includes(j));
    for (const j of sids) t.true(Array.from(neighbours(sym, j)[0]).includes(i));
  }
  const pruned = await knnGraph(c, { k: 6, threshold: 0.75 });
  t.true(pruned.sims.every((s) => s > 0.75));
  t.true(pruned.ids.length < directed.ids.length);
});

test('propagate spreads +1/-1 labels and re-clamps labeled rows', async (t) => {
  // path 0 - 1 - 2 - 3 - 4, 0 positive, 4 negative
  const offsets = Uint32Array.from([0, 1, 3, 5, 7, 8]);
  const ids = Uint32Array.from([1, 0, 2, 1, 3, 2, 4, 3]);
  const y0 = Float32Array.from([1, 0, 0, 0, -1]);
  const clamp = Uint8Array.from([1, 0, 0, 0, 1]);
  const y = await propagate({ offsets, ids }, y0, clamp, { iterations: 200 });
  t.is(y[0], 1);
  t.is(y[4], -1);
  // harmonic solution on a path: linear interpolation
  t.true(Math.abs(y[1] - 0.5) < 1e-3 && Math.abs(y[2]) < 1e-3 && Math.abs(y[3] + 0.5) < 1e-3);
  t.deepEqual(Array.from(y0), [1, 0, 0, 0, -1], 'input untouched');
});

test('topCandidates picks the best non-excluded rows, ties by id', (t) => {
  const scores = Float32Array.from([0.1, 0.9, 0.5, 0.9, -1, 0.5, 0.7]);
  t.deepEqual(Array.from(topCandidates(scores, 3, [3])), [1, 6, 2]);
  t.deepEqual(Array.from(topCandidates(scores, 4)), [1, 3, 6, 2]);
  t.is(topCandidates(scores, 50).length, 7);
});

test('normalize reports zero rows', async (t) => {
  const r = await normalize(matrix(Float32Array.from([3, 4, 0, 0]), 2));
  t.deepEqual(Array.from(r.zeroRows), [1]);
  t.true(Math.abs(r.vectors.data[0] - 0.6) < 1e-6);
  t.is(r.vectors.data[2], 0);
});

test('misuse is a typed error naming the argument', async (t) => {
  const q = matrix(randomMatrix(2, 4, 1), 4, 'queries');
  const c = matrix(randomMatrix(10, 4, 2), 4, 'corpus');
  const c3 = matrix(randomMatrix(10, 3, 2), 3, 'corpus');
  const e1 = await t.throwsAsync(bipartiteTopK(q, c3, { k: 3 }), {
    instanceOf: InvalidArgumentError,
  });
  t.is(e1?.argument, 'corpus');
  const e2 = await t.throwsAsync(bipartiteTopK(q, c, { k: 0 }), { instanceOf: InvalidArgumentError });
  t.is(e2?.argument, 'k');
  const bad = randomMatrix(10, 4, 2);
  bad[4 * 6 + 2] = Number.NaN;
  const e3 = await t.throwsAsync(bipartiteTopK(q, matrix(bad, 4, 'corpus'), { k: 3 }), {
    instanceOf: InvalidArgumentError,
  });
  t.is(e3?.argument, 'corpus');
  t.regex(e3?.message ?? '', /row 6, column 2/);
  const e4 = t.throws(() => matrix(new Float32Array(7), 3, 'corpus'), {
    instanceOf: InvalidArgumentError,
  });
  t.regex(e4?.message ?? '', /not a multiple of dim 3/);
  t.throws(() => matrix(new Float32Array(0), 3), { instanceOf: InvalidArgumentError });
  const e5 = await t.throwsAsync(bipartiteTopK(q, c, { k: 3, exclude: [10] }), {
    instanceOf: InvalidArgumentError,
  });
  t.is(e5?.argument, 'exclude');
  const e6 = await t.throwsAsync(
    propagate(
      { offsets: Uint32Array.from([0, 1, 1]), ids: Uint32Array.from([9]) },
      new Float32Array(2),
      new Uint8Array(2),
      { iterations: 3 },
    ),
    { instanceOf: InvalidArgumentError },
  );
  t.is(e6?.argument, 'graph.ids');
  const e7 = await t.throwsAsync(
    propagate({ offsets: Uint32Array.from([0, 0]), ids: new Uint32Array(0) }, new Float32Array(1), new Uint8Array(2), {
      iterations: 1,
    }),
    { instanceOf: InvalidArgumentError },
  );
  t.is(e7?.argument, 'clamp');
  const e8 = t.throws(() => topCandidates(Float32Array.from([1, Number.NaN]), 1), {
    instanceOf: InvalidArgumentError,
  });
  t.is(e8?.argument, 'scores');
  await t.throwsAsync(knnGraph(c, { k: 2, threshold: Number.NaN }), { instanceOf: InvalidArgumentError });
});

test('heavy calls run off the main thread', async (t) => {
  const c = matrix(randomMatrix(6000, 64, 9), 64);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const pending = knnGraph(c, { k: 10 });
  // If the kernel ran on the main thread, no timer callback could run before it resolved.
  await new Promise((r) => setTimeout(r, 20));
  const g = await pending;
  clearInterval(timer);
  t.true(ticks > 0);
  t.is(g.offsets.length, 6001);
});

test('the addon loads and works inside a worker thread', async (t) => {
  const code = `
    require('tsx/cjs');
    const { parentPort } = require('node:worker_threads');
    const { topCandidates } = require(${JSON.stringify(require.resolve('../src/index'))});
    parentPort.postMessage(Array.from(topCandidates(Float32Array.from([0.2, 0.8, 0.5]), 2)));
  `;
  const w = new Worker(code, { eval: true });
  const result = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  t.deepEqual(result, [1, 2]);
});
