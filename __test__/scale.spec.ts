/**
 * Out-of-core GBLE (`mineLarge`, `synapse-g mine-large`): the same mining as the in-memory GBLE
 * when the graph is exact, a build killed with SIGKILL resumes from its block log, and bad
 * input fails with the flag named and nothing written.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { promises as fsp, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTruthOracle, matrix, mine, mineLarge, readTruthNpy, readVectors, writePlantedCorpus } from '../src/index';
import { REPO, runChild } from './helpers/cli';

async function tmpdir(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-scale-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readShards(shards: string[], dim: number): Promise<Float32Array> {
  const parts = await Promise.all(shards.map((s) => readVectors(s, { flag: 'x', dim })));
  const all = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p.data, o);
    o += p.data.length;
  }
  return all;
}

test('mineLarge with every list probed mines exactly what in-memory GBLE mines', async (t) => {
  const dir = await tmpdir(t);
  const files = await writePlantedCorpus(path.join(dir, 'data'), { rows: 6000, dim: 32, topics: 12, subclusters: 10, positiveRate: 0.02, modes: 3, seeds: 12, shardRows: 2500, seed: 5 });
  t.is(files.shards.length, 3);
  const truth = await readTruthNpy(files.truth);
  t.is(truth.length, 6000);
  t.is(files.positives, truth.reduce((a, v) => a + v, 0));
  const seeds = await readVectors(files.seeds, { flag: 'seeds' });
  const params = { tau: 0, dmax: 10, k0: 20, iterations: 10, negativeLabel: -1 };
  const large = await mineLarge({
    vectors: files.shards,
    seeds,
    oracle: createTruthOracle(truth, 6000),
    workDir: path.join(dir, 'work'),
    ...params,
    probes: 1000, // every list: the exact graph
    maxQueryRatio: 0.1,
  });
  const corpus = matrix(await readShards(files.shards, 32), 32);
  const small = await mine({
    method: 'gble',
    corpus,
    seeds,
    oracle: createTruthOracle(truth, 6000),
    ...params,
    maxQueryRatio: 0.1,
  });
  t.true(large.metrics.length >= 2, `${large.metrics.length} rounds`);
  t.deepEqual(
    large.metrics.map((m) => [m.queried, m.positives_found]),
    small.metrics.map((m) => [m.queried, m.positives_found]),
  );
  t.deepEqual(
    large.labeled.map((l) => l.row).sort((a, b) => a - b),
    small.labeled.map((l) => l.row).sort((a, b) => a - b),
  );
  const last = large.metrics[large.metrics.length - 1];
  t.true(last.recall > 5 * last.random_recall, `recall ${last.recall} vs random ${last.random_recall}`);
  t.true(large.peakRssBytes > 0);
});

test('the approximate graph (default probes) still mines most of what the exact one does', async (t) => {
  const dir = await tmpdir(t);
  const files = await writePlantedCorpus(path.join(dir, 'data'), { rows: 20000, dim: 32, topics: 20, subclusters: 20, positiveRate: 0.01, modes: 3, seeds: 15, seed: 9 });
  const truth = await readTruthNpy(files.truth);
  const seeds = await readVectors(files.seeds, { flag: 'seeds' });
  const run = (probes: number, work: string) =>
    mineLarge({ vectors: files.shards, seeds, oracle: createTruthOracle(truth, 20000), workDir: path.join(dir, work), probes, maxQueryRatio: 0.05 });
  const approx = await run(3, 'a');
  const exact = await run(1000, 'e');
  const r = (x: typeof approx) => x.metrics[x.metrics.length - 1].recall;
  t.true(approx.graph.lists > 3);
  t.true(r(approx) >= r(exact) - 0.05, `approximate ${r(approx)} vs exact ${r(exact)}`);
});

function startChild(args: string[]): { p: ReturnType<typeof spawn>; stderr: () => string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  p.stdout?.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return { p, stderr: () => err, done };
}

test('mine-large: a graph build killed with SIGKILL resumes from its logged blocks and mines the same', async (t) => {
  const dir = await tmpdir(t);
  const files = await writePlantedCorpus(path.join(dir, 'data'), { rows: 300_000, dim: 96, topics: 60, subclusters: 40, positiveRate: 0.002, modes: 3, seeds: 20, shardRows: 100_000, seed: 2 });
  const args = (out: string, work: string) => ['mine-large', '--vectors', ...files.shards, '--seeds', files.seeds, '--truth', files.truth, '--out', path.join(dir, out), '--work-dir', path.join(dir, work), '--max-queries', '600', '--progress'];
  const full = await runChild(args('full', 'work-full'));
  t.is(full.code, 0, full.stderr);

  const killed = startChild(args('killed', 'work'));
  const log = path.join(dir, 'work', 'graph-d20-t0', 'knn.log');
  const t0 = Date.now();
  // Kill once the search stage has logged some blocks.
  while (!(existsSync(log) && (await fsp.stat(log)).size >= 8) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
  killed.p.kill('SIGKILL');
  const k = await killed.done;
  t.is(k.signal, 'SIGKILL');
  t.false(existsSync(path.join(dir, 'killed')), 'no half-written --out');
  t.false(existsSync(path.join(dir, 'work', 'graph-d20-t0', 'graph.done')), 'killed before the graph was finished');

  const resumed = await runChild(args('killed', 'work'));
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, /resumed: \d+ blocks already on disk/);
  const run = JSON.parse(await fsp.readFile(path.join(dir, 'killed', 'run.json'), 'utf8')) as { graph: { resumedBlocks: number; edges: number } };
  const want = JSON.parse(await fsp.readFile(path.join(dir, 'full', 'run.json'), 'utf8')) as { graph: { edges: number } };
  t.true(run.graph.resumedBlocks > 0);
  t.is(run.graph.edges, want.graph.edges);
  t.is(await fsp.readFile(path.join(dir, 'killed', 'labeled.csv'), 'utf8'), await fsp.readFile(path.join(dir, 'full', 'labeled.csv'), 'utf8'));
  t.is(await fsp.readFile(path.join(dir, 'killed', 'metrics.csv'), 'utf8'), await fsp.readFile(path.join(dir, 'full', 'metrics.csv'), 'utf8'));
});

test('mine-large: bad input names the flag or file, exits non-zero and writes nothing', async (t) => {
  const dir = await tmpdir(t);
  const files = await writePlantedCorpus(path.join(dir, 'data'), { rows: 2000, dim: 16, seeds: 5, seed: 1 });
  const out = path.join(dir, 'out');
  const base = ['mine-large', '--vectors', ...files.shards, '--seeds', files.seeds, '--truth', files.truth, '--out', out, '--work-dir', path.join(dir, 'w')];
  const f64 = path.join(dir, 'f64.npy');
  await fsp.writeFile(f64, Buffer.concat([Buffer.from("\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 'latin1'), Buffer.alloc(64, 32)]));
  const shortTruth = path.join(dir, 'truth-short.npy');
  const truthBytes = await fsp.readFile(files.truth);
  await fsp.writeFile(shortTruth, truthBytes.subarray(0, truthBytes.length - 10));
  const cases: [string[], RegExp, number][] = [
    [['--memory-limit', '12 parsecs'], /--memory-limit must be a size like 12G/, 2],
    [['--memory-limit', '1M'], /too small for 2000 rows/, 1],
    [['--probes', '0'], /--probes must be a positive integer/, 2],
  ];
  for (const [extra, re, code] of cases) {
    const r = await runChild([...base, ...extra]);
    t.is(r.code, code, `${extra.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
  }
  const swapped = await runChild(base.map((a) => (a === files.shards[0] ? f64 : a)));
  t.is(swapped.code, 1);
  t.regex(swapped.stderr, /f64\.npy.*float32/);
  const truncated = await runChild(base.map((a) => (a === files.truth ? shortTruth : a)));
  t.is(truncated.code, 1);
  t.regex(truncated.stderr, /--truth.*truncated/);
  t.false(existsSync(out));
});
