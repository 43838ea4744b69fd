import test from 'ava';
import {
  adaptiveK,
  corpusGraph,
  gbleGraph,
  createGroundTruthOracle,
  InvalidArgumentError,
  matrix,
  mine,
  P_FLOOR,
  type MineOptions,
  type Oracle,
} from '../src/index';
import { cosine, plantedCorpus } from './helpers/random';

const planted = plantedCorpus(2000, 100, 20, 7);
const corpus = matrix(planted.corpus, planted.dim, 'corpus');
const seeds = matrix(planted.seeds, planted.dim, 'seeds');
const base = (extra: Partial<MineOptions> = {}): MineOptions => ({
  method: 'gble',
  corpus,
  seeds,
  oracle: createGroundTruthOracle(planted.labels),
  tau: 0.5,
  dmax: 10,
  k0: 20,
  maxQueryRatio: 0.15,
  ...extra,
});

for (const method of ['auto', 'gble', 'ibg', 'seals', 'nn', 'lr'] as const) {
  test(`${method} finds planted positives far faster than random`, async (t) => {
    const r = await mine(base({ method }));
    const last = r.metrics[r.metrics.length - 1];
    t.true(r.metrics.length >= 1);
    t.true(last.recall > 3 * last.random_recall, `${method}: recall ${last.recall} at ratio ${last.query_ratio}`);
    t.true(last.precision > 3 * last.random_precision, `${method}: precision ${last.precision}`);
  });
}

test('metrics are cumulative and consistent with the labeled rows', async (t) => {
  const r = await mine(base({ method: 'gble' }));
  let q = 0;
  let p = 0;
  for (const m of r.metrics) {
    const rows = r.labeled.filter((l) => l.round === m.round);
    q += rows.length;
    p += rows.filter((l) => l.label).length;
    t.is(m.queried, q);
    t.is(m.positives_found, p);
    t.is(m.query_ratio, q / 2000);
    t.is(m.recall, p / 100);
    t.is(m.random_recall, m.query_ratio);
    t.is(m.random_precision, 0.05);
  }
  for (const l of r.labeled) t.is(l.label, planted.labels[l.row]);
  t.is(new Set(r.labeled.map((l) => l.row)).size, r.labeled.length, 'no row is queried twice');
});

test('the same seed gives the same result; LR and random depend on it', async (t) => {
  for (const method of ['lr', 'random', 'gble', 'auto', 'seals'] as const) {
    const a = await mine(base({ method, seed: 3 }));
    const b = await mine(base({ method, seed: 3 }));
    t.deepEqual(a.labeled, b.labeled, method);
  }
  const c = await mine(base({ method: 'random', seed: 4 }));
  const d = await mine(base({ method: 'random', seed: 3 }));
  t.notDeepEqual(c.labeled.map((l) => l.row), d.labeled.map((l) => l.row));
});

test('GBLE: round 1 queries K0, later rounds K0 / p_prev', async (t) => {
  const sizes: number[] = [];
  const precisions: number[] = [];
  await mine(
    base({
      method: 'gble',
      maxQueryRatio: 0.5,
      onRound: (r) => {
        sizes.push(r.rows.length);
        precisions.push(r.newPositives / r.rows.length);
      },
    }),
  );
  t.is(sizes[0], 20);
  t.true(sizes.length >= 2);
  // A round may propose fewer rows when fewer have a positive score, never more.
  for (let i = 1; i < sizes.length; i++) t.true(sizes[i] <= adaptiveK(20, precisions[i - 1]));
  t.is(adaptiveK(20, 0.5), 40);
  t.is(adaptiveK(20, 0), Math.ceil(20 / P_FLOOR));
  t.is(adaptiveK(20, undefined), 20);
});

test('IBG round 1 is exactly the bipartite graph of Algorithm 2 (brute force)', async (t) => {
  const tau = 0.5;
  const dmax = 10;
  let first: Uint32Array | undefined;
  await mine(base({ method: 'ibg', tau, dmax, rounds: 1, onRound: (r) => (first ??= r.rows) }));
  const expected = new Set<number>();
  for (let s = 0; s < seeds.rows; s++) {
    const sims: [number, number][] = [];
    for (let i = 0; i < corpus.rows; i++) {
      const c = cosine(planted.seeds, s, planted.corpus, i, planted.dim);
      if (c > tau) sims.push([c, i]);
    }
    sims.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of sims.slice(0, dmax)) expected.add(i);
  }
  t.deepEqual([...(first ?? [])].sort((a, b) => a - b), [...expected].sort((a, b) => a - b));
});

test('IBG: new positives join the seeds (round 2 reaches rows the seeds alone do not)', async (t) => {
  const rounds: Uint32Array[] = [];
  const r = await mine(base({ method: 'ibg', maxQueryRatio: 1, onRound: (x) => rounds.push(x.rows) }));
  t.true(rounds.length >= 2, r.stopReason);
  const oneShot = await mine(base({ method: 'bipartite', maxQueryRatio: 1 }));
  t.is(oneShot.metrics.length, 1);
  t.regex(oneShot.stopReason, /one-shot/);
  t.deepEqual(Array.from(rounds[0]), oneShot.labeled.map((l) => l.row));
  t.true(r.metrics[r.metrics.length - 1].positives_found > oneShot.metrics[0].positives_found);
});

test('stop rules: max queries cuts the last round, rounds, no new positive', async (t) => {
  const q = await mine(base({ method: 'nn', maxQueryRatio: undefined, maxQueries: 45 }));
  t.is(q.metrics[q.metrics.length - 1].queried, 45);
  t.regex(q.stopReason, /budget/);
  const r = await mine(base({ method: 'gble', maxQueryRatio: undefined, rounds: 2 }));
  t.is(r.metrics.length, 2);
  t.regex(r.stopReason, /--rounds 2/);
  // An oracle that never says yes: the first dry round stops graph methods...
  const never: Oracle = { name: 'never', label: (items) => Promise.resolve(items.map(() => false)) };
  const dry = await mine(base({ method: 'ibg', oracle: never }));
  t.is(dry.metrics.length, 1);
  t.regex(dry.stopReason, /no new positive/);
  t.true(Number.isNaN(dry.metrics[0].recall), 'recall is unknown without ground truth');
  // ...but the random baseline draws on to the budget.
  const rnd = await mine(base({ method: 'random', oracle: never, maxQueryRatio: 0.05 }));
  t.is(rnd.metrics[rnd.metrics.length - 1].queried, 100);
});

test('seeds with no neighbour above tau: no round, a reason suggesting a lower tau', async (t) => {
  for (const method of ['bipartite', 'ibg', 'gble'] as const) {
    const r = await mine(base({ method, tau: 0.9999 }));
    t.is(r.metrics.length, 0, method);
    t.regex(r.stopReason, /lower --tau/, method);
  }
});

test('bad arguments name the argument', async (t) => {
  const bad: [Partial<MineOptions>, RegExp][] = [
    [{ method: 'magic' as MineOptions['method'] }, /^method: unknown method "magic"/],
    [{ tau: 1 }, /^tau:/],
    [{ dmax: 0 }, /^dmax:/],
    [{ k0: 2.5 }, /^k0:/],
    [{ maxQueryRatio: 0 }, /^maxQueryRatio:/],
    [{ negativeLabel: 0.5 }, /^negativeLabel:/],
    [{ seeds: matrix(new Float32Array(8), 8) }, /^seeds: dimension 8 differs/],
    [{ seeds: matrix(new Float32Array(16), 16) }, /^seeds: 1 all-zero row/],
    [{ ids: ['a'] }, /^ids: has 1 entries for 2000/],
  ];
  for (const [extra, re] of bad) {
    const e = await t.throwsAsync(mine(base(extra)), { instanceOf: InvalidArgumentError });
    t.regex(e?.message ?? '', re);
  }
});

test('an oracle returning the wrong number of labels is an error', async (t) => {
  const broken: Oracle = { name: 'broken', label: () => Promise.resolve([true]) };
  await t.throwsAsync(mine(base({ oracle: broken })), { message: /oracle: returned 1 labels for 20 rows/ });
});

test('GBLE graph: the corpus kNN graph is built once and reused; seed edges go both ways', async (t) => {
  const params = { tau: 0.2, dmax: 5 };
  const a = corpusGraph(corpus, params);
  t.is(corpusGraph(corpus, params), a, 'same corpus array and parameters: same graph');
  t.not(corpusGraph(corpus, { tau: 0.2, dmax: 6 }), a);
  const g = await gbleGraph(corpus, seeds, params);
  const n = corpus.rows;
  const has = (i: number, j: number) => Array.from(g.ids.subarray(g.offsets[i], g.offsets[i + 1])).includes(j);
  let seedEdges = 0;
  for (let s = 0; s < seeds.rows; s++) {
    const row = g.ids.subarray(g.offsets[n + s], g.offsets[n + s + 1]);
    t.true(row.length <= 5);
    for (const c of row) {
      t.true(c < n, 'seeds link only to corpus rows');
      t.true(has(c, n + s), 'and the corpus row links back');
      seedEdges++;
    }
  }
  t.true(seedEdges > 0);
  for (let i = 0; i < n + seeds.rows; i++) {
    const s = g.sims.subarray(g.offsets[i], g.offsets[i + 1]);
    for (let e = 1; e < s.length; e++) t.true(s[e - 1] >= s[e], `row ${i} sorted`);
    for (const j of g.ids.subarray(g.offsets[i], g.offsets[i + 1])) if (!has(j, i)) t.fail(`edge ${i}->${j} has no reverse`);
  }
});

test('auto: every arm is tried, and the arms that find positives get more of the budget', async (t) => {
  const r = await mine(base({ method: 'auto', maxQueryRatio: 0.3 }));
  const note = r.notes.find((n) => n.startsWith('auto:')) ?? '';
  const counts = Object.fromEntries([...note.matchAll(/(graph|classifier|fusion|local) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  t.is(counts.graph + counts.classifier + counts.fusion + counts.local, r.metrics[r.metrics.length - 1].queried, note);
  for (const arm of ['graph', 'classifier', 'fusion', 'local']) t.true(counts[arm] > 0, `${arm} used: ${note}`);
});

test('seals queries only rows near labeled ones (its pool)', async (t) => {
  let first: Uint32Array | undefined;
  await mine(base({ method: 'seals', rounds: 1, onRound: (x) => (first ??= x.rows) }));
  const near = new Set<number>();
  for (let s = 0; s < seeds.rows; s++) {
    const sims = Array.from({ length: corpus.rows }, (_, i) => [cosine(planted.seeds, s, planted.corpus, i, planted.dim), i]);
    sims.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of sims.slice(0, 100)) near.add(i);
  }
  t.true((first?.length ?? 0) > 0);
  for (const r of first ?? []) t.true(near.has(r), `row ${r} is in a seed's 100-NN`);
});
