/**
 * The faiss backend of the approximate kNN graph (faiss-node, built by scripts/setup-faiss.sh).
 * These tests use the real faiss-node: run `bash scripts/setup-faiss.sh` first (CI does).
 */
import test from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { approximateKnnGraph, buildKnnGraph, createGroundTruthOracle, graphRecall, InvalidArgumentError, knnGraph, matrix, mine, SynapseError, type CsrGraph } from '../src/index';
import { runChild } from './helpers/cli';
import { plantedFiles } from './helpers/planted-files';
import { clustered } from '../benchmarks/data';
import { plantedCorpus, randomMatrix } from './helpers/random';

/** Rows sorted best first, no self loops, every similarity above `threshold` when given. */
function wellFormed(g: CsrGraph, n: number, k: number, threshold?: number): string | undefined {
  if (g.offsets.length !== n + 1 || g.offsets[0] !== 0 || g.offsets[n] !== g.ids.length || g.ids.length !== g.sims.length) return 'CSR shape';
  for (let i = 0; i < n; i++) {
    const a = g.offsets[i];
    const b = g.offsets[i + 1];
    if (b < a || b - a > k) return `row ${i} has ${b - a} edges`;
    for (let e = a; e < b; e++) {
      if (g.ids[e] === i || g.ids[e] >= n) return `row ${i}: bad neighbour ${g.ids[e]}`;
      if (e > a && g.sims[e - 1] < g.sims[e]) return `row ${i} not sorted`;
      if (threshold !== undefined && !(g.sims[e] > threshold)) return `row ${i}: ${g.sims[e]} not above ${threshold}`;
    }
  }
  return undefined;
}

// Clustered unit rows (like sentence embeddings): 30 topics of ~100 rows.
const x = matrix(clustered(3000, 32, 30, 5), 32);
let exact: CsrGraph;
test.before(async () => {
  exact = await knnGraph(x, { k: 10 });
});

for (const index of ['hnsw', 'ivf'] as const) {
  test(`faiss ${index}: recall@10 against the exact graph, well-formed CSR, the exact graph's similarities`, (t) => {
    const g = approximateKnnGraph(x, { k: 10, index, backend: 'faiss' });
    t.is(wellFormed(g, x.rows, 10), undefined);
    const r = graphRecall(g, exact);
    t.true(r > (index === 'hnsw' ? 0.95 : 0.9), `recall@10 ${r}`);
    // Inner products of unit rows are the cosines the exact path reports.
    for (let i = 0; i < 50; i++) {
      const a = exact.offsets[i];
      const e = Array.from(g.ids.subarray(g.offsets[i], g.offsets[i + 1])).indexOf(exact.ids[a]);
      if (e >= 0) t.true(Math.abs(g.sims[g.offsets[i] + e] - exact.sims[a]) < 1e-4);
    }
  });
}

test('faiss: threshold respected, symmetric graphs, scale of rows does not matter (cosine)', async (t) => {
  const cut = approximateKnnGraph(x, { k: 10, threshold: 0.3, index: 'ivf', backend: 'faiss' });
  t.is(wellFormed(cut, x.rows, 10, 0.3), undefined);
  const exactCut = await knnGraph(x, { k: 10, threshold: 0.3 });
  t.true(graphRecall(cut, exactCut) > 0.9);
  const sym = await buildKnnGraph(x, { k: 5, symmetric: true, index: 'hnsw', backend: 'faiss' });
  for (let i = 0; i < 300; i++) {
    for (const j of sym.ids.subarray(sym.offsets[i], sym.offsets[i + 1])) {
      if (!sym.ids.subarray(sym.offsets[j], sym.offsets[j + 1]).includes(i)) t.fail(`edge ${i}-${j} one way only`);
    }
  }
  const scaled = Float32Array.from(x.data, (v, p) => v * (1 + (Math.floor(p / 32) % 7)));
  const g = approximateKnnGraph(matrix(scaled, 32), { k: 10, index: 'hnsw', backend: 'faiss' });
  t.true(graphRecall(g, exact) > 0.95);
  t.true(g.sims.every((s) => s <= 1 + 1e-5));
});

test('faiss: tiny corpora (k ≥ rows, fewer rows than default lists) work', (t) => {
  const small = matrix(randomMatrix(7, 4, 3), 4);
  for (const index of ['hnsw', 'ivf'] as const) {
    const g = approximateKnnGraph(small, { k: 20, index, backend: 'faiss' });
    t.is(wellFormed(g, 7, 6), undefined);
    t.is(g.ids.length, 7 * 6, `${index}: every other row`);
  }
});

test('bad input and bad pairs fail with clear errors, and the process survives', async (t) => {
  await t.throwsAsync(buildKnnGraph(x, { k: 3, index: 'ivf', backend: 'usearch' }), { instanceOf: InvalidArgumentError, message: /^backend: usearch has no IVF index/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, index: 'pq' as 'ivf', backend: 'faiss' }), { message: /^index: must be exact, hnsw or ivf/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, backend: 'annoy' as 'faiss' }), { message: /^backend: must be usearch or faiss/ });
  const bad = Float32Array.from(x.data);
  bad[70] = Number.POSITIVE_INFINITY;
  t.throws(() => approximateKnnGraph(matrix(bad, 32), { k: 3, index: 'ivf', backend: 'faiss' }), { instanceOf: InvalidArgumentError, message: /^corpus: row 2, column 6 is not finite/ });
  t.throws(() => approximateKnnGraph({ data: x.data, dim: 33, rows: 3000 }, { k: 3, backend: 'faiss' }), { message: /^corpus: 3000 rows × 33 does not match 96000 values/ });
  t.throws(() => approximateKnnGraph(x, { k: 0, backend: 'faiss' }), { message: /^k:/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, index: 'ivf', backend: 'faiss', nlist: 4000 }), { message: /^nlist: must be an integer in \[1, 3000\]/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, index: 'ivf', backend: 'faiss', nlist: 50, nprobe: 51 }), { message: /^nprobe:/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, index: 'ivf', backend: 'faiss', nlist: 50, trainRows: 49 }), { message: /^trainRows:/ });
  t.throws(() => approximateKnnGraph(x, { k: 3, backend: 'faiss', connectivity: 1 }), { message: /^connectivity:/ });
  // Still alive: a faiss exception here would have aborted the whole process.
  t.is(graphRecall(approximateKnnGraph(x, { k: 3, index: 'ivf', backend: 'faiss', nlist: 50, nprobe: 50 }), await knnGraph(x, { k: 3 })), 1);
});

test('the error without faiss-node names the setup script', async (t) => {
  // A child whose require('faiss-node') fails, as on an install that never ran the script.
  const code = `
    const Module = require('module');
    const orig = Module._resolveFilename;
    Module._resolveFilename = function (req, ...a) { if (String(req).includes('faiss-node')) throw new Error("Cannot find module 'faiss-node'"); return orig.call(this, req, ...a); };
    const { approximateKnnGraph, matrix } = require('./src/index');
    try { approximateKnnGraph(matrix(new Float32Array(8).fill(1), 2), { k: 1, index: 'ivf' }); } catch (e) { console.log(e.code + ' ' + e.message); }
  `;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
  t.regex(r.stdout, /^UNAVAILABLE .*run `bash scripts\/setup-faiss\.sh`/, r.stderr);
  t.true(new SynapseError('x', 'UNAVAILABLE') instanceof Error);
});

test('GBLE mining with faiss graphs finds as many positives as with the exact one (within a few)', async (t) => {
  const p = plantedCorpus(2000, 100, 20, 7);
  const base = { corpus: matrix(p.corpus, p.dim), seeds: matrix(p.seeds, p.dim), oracle: createGroundTruthOracle(p.labels), method: 'gble' as const, maxQueryRatio: 0.1, tau: 0.3 };
  const last = (r: Awaited<ReturnType<typeof mine>>) => r.metrics[r.metrics.length - 1].recall;
  const exactRun = await mine(base);
  for (const index of ['hnsw', 'ivf'] as const) {
    const r = await mine({ ...base, index, annBackend: 'faiss' });
    t.true(Math.abs(last(exactRun) - last(r)) <= 0.05, `${index}: exact ${last(exactRun)} vs ${last(r)}`);
    t.is(r.params.index, index);
    t.is(r.params.annBackend, 'faiss');
  }
  await t.throwsAsync(mine({ ...base, annBackend: 'faiss' }), { message: /^annBackend: only applies to an approximate index/ });
});

test('CLI: mine --index ivf (faiss by default), and --index ivf --ann-backend usearch is refused', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-ann-faiss-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const { args } = await plantedFiles(dir, { rows: 600, positives: 30, seeds: 12, seed: 5 });
  const out = path.join(dir, 'run');
  const r = await runChild(['mine', ...args, '--oracle', 'column:label=yes', '--method', 'gble', '--index', 'ivf', '--out', out, '--seed', '1', '--quiet']);
  t.is(r.code, 0, r.stderr);
  const run = JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8')) as { params?: { index?: string }; methods?: { params: { index?: string } }[] };
  t.is(run.params?.index ?? run.methods?.[0].params.index, 'ivf');
  const bad = await runChild(['mine', ...args, '--oracle', 'column:label=yes', '--method', 'gble', '--index', 'ivf', '--ann-backend', 'usearch', '--out', path.join(dir, 'bad'), '--quiet']);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /--ann-backend: usearch has no IVF index/);
  const choice = await runChild(['mine', ...args, '--oracle', 'column:label=yes', '--index', 'ivf', '--ann-backend', 'annoy', '--out', path.join(dir, 'bad2')]);
  t.not(choice.code, 0);
  t.regex(choice.stderr, /--ann-backend <lib>' argument 'annoy' is invalid\. Allowed choices are usearch, faiss/);
});
