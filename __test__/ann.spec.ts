import test from 'ava';
import { approximateKnnGraph, buildKnnGraph, createGroundTruthOracle, graphRecall, InvalidArgumentError, knnGraph, matrix, mine } from '../src/index';
import { plantedCorpus, randomMatrix } from './helpers/random';

test('HNSW graph (usearch): recall against the exact graph, threshold, self excluded, symmetric', async (t) => {
  const x = matrix(randomMatrix(3000, 32, 5), 32);
  const exact = await knnGraph(x, { k: 10 });
  const approx = approximateKnnGraph(x, { k: 10 });
  const r = graphRecall(approx, exact);
  t.true(r > 0.95, `recall@10 ${r}`);
  t.is(graphRecall(exact, exact), 1);
  for (let i = 0; i < x.rows; i++) {
    const ids = approx.ids.subarray(approx.offsets[i], approx.offsets[i + 1]);
    const sims = approx.sims.subarray(approx.offsets[i], approx.offsets[i + 1]);
    t.false(ids.includes(i), 'no self loop');
    for (let e = 1; e < sims.length; e++) if (sims[e - 1] < sims[e]) t.fail(`row ${i} not sorted`);
  }
  const cut = approximateKnnGraph(x, { k: 10, threshold: 0.3 });
  t.true(cut.sims.every((s) => s > 0.3));
  const sym = approximateKnnGraph(x, { k: 5, symmetric: true });
  for (let i = 0; i < 200; i++) {
    for (const j of sym.ids.subarray(sym.offsets[i], sym.offsets[i + 1])) {
      t.true(sym.ids.subarray(sym.offsets[j], sym.offsets[j + 1]).includes(i), `edge ${i}-${j} both ways`);
    }
  }
  t.throws(() => approximateKnnGraph(x, { k: 0 }), { instanceOf: InvalidArgumentError, message: /^k:/ });
  const bad = Float32Array.from(x.data);
  bad[40] = Number.NaN;
  t.throws(() => approximateKnnGraph(matrix(bad, 32), { k: 3 }), { message: /^corpus: row 1, column 8 is not finite/ });
  await t.throwsAsync(buildKnnGraph(x, { k: 3, index: 'pq' as 'hnsw' }), { message: /^index: must be exact, hnsw or ivf/ });
});

test('GBLE mining with the HNSW graph finds as many positives as with the exact one (within a few)', async (t) => {
  const p = plantedCorpus(2000, 100, 20, 7);
  const base = { corpus: matrix(p.corpus, p.dim), seeds: matrix(p.seeds, p.dim), oracle: createGroundTruthOracle(p.labels), method: 'gble' as const, maxQueryRatio: 0.1, tau: 0.3 };
  const exact = await mine(base);
  const hnsw = await mine({ ...base, index: 'hnsw' });
  const last = (r: typeof exact) => r.metrics[r.metrics.length - 1].recall;
  t.true(Math.abs(last(exact) - last(hnsw)) <= 0.05, `exact ${last(exact)} vs hnsw ${last(hnsw)}`);
  t.is(hnsw.params.index, 'hnsw');
});
