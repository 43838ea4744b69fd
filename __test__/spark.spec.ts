/**
 * `--engine spark`: GBLE's graph and propagation as a Spark application (spark/synapse_spark.py,
 * src/engines/spark.ts) in local[2] mode, against the single-machine path on the same planted
 * data. Needs `bash scripts/setup-spark.sh` (pyspark in .venv-spark) and Java 17, as CI has.
 *
 * Each Spark application costs a JVM start (seconds): one session serves the graph and
 * propagation checks, and the CLI run is a second one, started concurrently.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findSparkSubmit, SparkGbleSession } from '../src/engines/spark';
import { gbleGraph, matrix, normalize, type CsrGraph, type Matrix, type MiningState } from '../src/index';
import { propagateScores } from '../src/strategies/gble';
import { REPO, runChild } from './helpers/cli';
import { plantedFiles } from './helpers/planted-files';
import { plantedCorpus } from './helpers/random';

const HEAVY_MS = 240_000;
const params = { tau: 0.5, dmax: 10 };
const planted = plantedCorpus(1500, 75, 15, 11);

let data: Promise<{ corpus: Matrix; seeds: Matrix }> | undefined;
const inputs = (): Promise<{ corpus: Matrix; seeds: Matrix }> =>
  (data ??= (async () => ({
    corpus: (await normalize(matrix(planted.corpus, planted.dim, 'corpus'))).vectors,
    seeds: (await normalize(matrix(planted.seeds, planted.dim, 'seeds'))).vectors,
  }))());

// One Spark session for the graph and propagation tests; 400-row blocks make 4 blocks (10 block
// pairs), so the merge across blocks is exercised.
let started: Promise<SparkGbleSession> | undefined;
const session = (): Promise<SparkGbleSession> =>
  (started ??= inputs().then(({ corpus, seeds }) => SparkGbleSession.start(corpus, seeds, params, { blockRows: 400, exportGraph: true })));
test.after.always(async () => {
  if (started) await (await started.catch(() => undefined))?.close();
});

async function tmpDir(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-spark-test-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

function rowMap(g: CsrGraph, i: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) m.set(g.ids[e], g.sims[e]);
  return m;
}

test('the Spark graph equals gbleGraph: same edges, similarities within 1e-5', async (t) => {
  t.timeout(HEAVY_MS);
  const { corpus, seeds } = await inputs();
  const s = await session();
  const got = await s.readGraph();
  const want = await gbleGraph(corpus, seeds, params);
  t.is(got.offsets.length, want.offsets.length, 'nodes: corpus rows then seeds');
  t.is(got.ids.length, want.ids.length, 'directed edges');
  t.is(s.stats.edges, want.ids.length);
  let worst = 0;
  let mismatched = 0;
  for (let i = 0; i < want.offsets.length - 1; i++) {
    const a = rowMap(want, i);
    const b = rowMap(got, i);
    if (a.size !== b.size || [...a.keys()].some((j) => !b.has(j))) {
      mismatched++;
      continue;
    }
    for (const [j, v] of a) worst = Math.max(worst, Math.abs(v - (b.get(j) as number)));
  }
  t.is(mismatched, 0, 'rows whose neighbour sets differ');
  t.true(worst <= 1e-5, `largest similarity difference ${worst}`);
  const corpusEdges = want.offsets[corpus.rows];
  t.true(corpusEdges > 0 && corpusEdges < want.ids.length, 'both corpus-corpus and seed edges are there');
});

test('propagated scores match propagateScores within 1e-5 (negative label -1 and 0)', async (t) => {
  t.timeout(HEAVY_MS);
  const { corpus, seeds } = await inputs();
  const s = await session();
  const graph = await gbleGraph(corpus, seeds, params);
  const labels = new Int8Array(corpus.rows);
  for (let i = 0; i < corpus.rows; i += 7) labels[i] = planted.labels[i] ? 1 : -1;
  for (const negativeLabel of [-1, 0]) {
    const p = { iterations: 6, negativeLabel };
    const got = await s.propagate(labels, p);
    const want = await propagateScores(graph, { corpus, seeds, labels } as unknown as MiningState, p);
    t.is(got.length, corpus.rows);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    t.true(worst <= 1e-5, `negative label ${negativeLabel}: largest score difference ${worst}`);
    t.true(want.some((v) => v > 0), 'positive scores');
    if (negativeLabel < 0) t.true(want.some((v) => v < 0), 'negatives push scores below 0');
  }
});

test('mine --method gble --engine spark gives the local run\'s candidates per round and labeled set', async (t) => {
  t.timeout(HEAVY_MS);
  const dir = await tmpDir(t);
  const { args } = await plantedFiles(dir, { rows: 1500, positives: 75, seeds: 15, seed: 5 });
  const common = [...args, '--oracle', 'column:label=yes', '--method', 'gble', '--tau', '0.5', '--dmax', '10', '--k0', '15', '--iterations', '6', '--max-query-ratio', '0.2', '--seed', '1'];
  const [local, spark] = await Promise.all([
    runChild(['mine', ...common, '--out', path.join(dir, 'local')]),
    runChild(['mine', ...common, '--engine', 'spark', '--master', 'local[2]', '--progress', '--out', path.join(dir, 'spark')]),
  ]);
  t.is(local.code, 0, local.stderr);
  t.is(spark.code, 0, spark.stderr);
  t.regex(spark.stderr, /mining on Spark \(master local\[2\]/);
  t.regex(spark.stderr, /spark graph .*block pairs/, 'the graph stage has a progress bar');
  const read = (run: string, f: string) => fsp.readFile(path.join(dir, run, f), 'utf8');
  const labeledLocal = await read('local', 'labeled.csv');
  t.true(labeledLocal.split('\n').length > 40, 'several rounds of candidates');
  t.is(await read('spark', 'labeled.csv'), labeledLocal, 'same rows, same rounds, same order');
  t.is(await read('spark', 'metrics.csv'), await read('local', 'metrics.csv'));
  const runJson = JSON.parse(await read('spark', 'run.json')) as { notes?: string[] };
  t.true(JSON.stringify(runJson).includes('GBLE ran on Spark'), 'the report says where GBLE ran');
});

test('aborting the start kills the Spark application and removes its work folder', async (t) => {
  t.timeout(HEAVY_MS);
  const dir = await tmpDir(t);
  const { corpus, seeds } = await inputs();
  const ac = new AbortController();
  let lines = 0;
  const starting = SparkGbleSession.start(corpus, seeds, params, {
    workDir: dir,
    signal: ac.signal,
    onOutput: () => {
      if (++lines === 1) ac.abort(new Error('stop here'));
    },
  });
  await t.throwsAsync(starting, { message: 'stop here' });
  t.deepEqual(await fsp.readdir(dir), [], 'work folder removed');
});

test("the job's top-k selection is exact with ties, and merging partial lists equals one selection (Python unittest)", async (t) => {
  const python = path.join(process.env.SYNAPSE_G_SPARK_VENV ?? path.join(REPO, '.venv-spark'), 'bin', 'python');
  const r = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(python, ['-B', path.join(REPO, 'spark', 'test_synapse_spark.py')], (e, stdout, stderr) => resolve({ code: e ? 1 : 0, out: `${stdout}${stderr}` })),
  );
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Ran 3 tests[\s\S]*OK/);
});

test('--engine spark with another method, --master without it and --index hnsw are refused, naming the flag', async (t) => {
  const dir = await tmpDir(t);
  const { args } = await plantedFiles(dir, { rows: 60, positives: 6, seeds: 4, seed: 2 });
  const base = [...args, '--oracle', 'column:label=yes'];
  const ibg = await runChild(['mine', ...base, '--method', 'ibg', '--engine', 'spark', '--out', path.join(dir, 'a')]);
  t.not(ibg.code, 0);
  t.regex(ibg.stderr, /--engine: spark runs only --method gble, not --method ibg/);
  const auto = await runChild(['mine', ...base, '--engine', 'spark', '--out', path.join(dir, 'b')]);
  t.regex(auto.stderr, /--engine: spark runs only --method gble, not --method auto/);
  const master = await runChild(['mine', ...base, '--method', 'gble', '--master', 'local[2]', '--out', path.join(dir, 'c')]);
  t.regex(master.stderr, /--master: applies only with --engine spark/);
  const hnsw = await runChild(['mine', ...base, '--method', 'gble', '--engine', 'spark', '--index', 'hnsw', '--out', path.join(dir, 'd')]);
  t.regex(hnsw.stderr, /--index: hnsw is for --engine local/);
});

test('without pyspark the error says to run scripts/setup-spark.sh', async (t) => {
  const dir = await tmpDir(t);
  t.throws(() => findSparkSubmit({ venv: path.join(dir, 'no-venv') }), { message: /bash scripts\/setup-spark\.sh/ }, 'unless spark-submit is on PATH');
  const { args } = await plantedFiles(dir, { rows: 60, positives: 6, seeds: 4, seed: 2 });
  const r = await runChild(['mine', ...args, '--oracle', 'column:label=yes', '--method', 'gble', '--engine', 'spark', '--out', path.join(dir, 'out')], {
    SYNAPSE_G_SPARK_VENV: path.join(dir, 'no-venv'),
    SPARK_HOME: '',
    PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
  });
  t.not(r.code, 0);
  t.regex(r.stderr, /pyspark was not found.*bash scripts\/setup-spark\.sh/);
  t.false(await fsp.stat(path.join(dir, 'out')).then(() => true, () => false), 'nothing written');
});
