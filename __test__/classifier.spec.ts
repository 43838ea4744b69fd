import test from 'ava';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { averagePrecision, fitPlatt, loadClassifier, matrix, saveClassifier, trainClassifier } from '../src/index';
import { REPO, runChild } from './helpers/cli';
import { plantedCorpus } from './helpers/random';

test('average precision: known values', (t) => {
  t.is(averagePrecision([0.9, 0.8, 0.7, 0.6], [true, true, false, false]), 1);
  t.is(averagePrecision([0.9, 0.8, 0.7, 0.6], [false, false, true, true]), (1 / 3 + 2 / 4) / 2);
  // Ties are broken pessimistically (negatives first).
  t.is(averagePrecision([0.5, 0.5], [true, false]), 0.5);
});

test('Platt scaling recovers the slope and offset that generated the labels', (t) => {
  const z: number[] = [];
  const y: boolean[] = [];
  let s = 1;
  for (let i = 0; i < 4000; i++) {
    const v = (i / 4000) * 12 - 6;
    s = (s * 16807) % 2147483647;
    z.push(v);
    y.push(s / 2147483647 < 1 / (1 + Math.exp(-(2 * v - 1))));
  }
  const { a, b } = fitPlatt(z, y);
  t.true(Math.abs(a - 2) < 0.25, `a = ${a}`);
  t.true(Math.abs(b + 1) < 0.25, `b = ${b}`);
});

test('train on planted data, save, load, predict: calibrated, PR-AUC high, held-out stratified', async (t) => {
  const p = plantedCorpus(1500, 150, 1, 21, 16, 1);
  const v = matrix(p.corpus, p.dim);
  const model = await trainClassifier(v, p.labels, { embedder: 'test', seed: 3 });
  t.is(model.metrics.heldOut.rows, 300);
  t.is(model.metrics.heldOut.positives, 30);
  t.true(model.metrics.prAuc > 0.8, `PR-AUC ${model.metrics.prAuc}`);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-model-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  await saveClassifier(dir, model);
  const c = await loadClassifier(dir);
  const scores = await c.predictVectors(v);
  const mean = (f: (i: number) => boolean) => {
    const xs = [...scores].filter((_, i) => f(i));
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  t.true(mean((i) => p.labels[i]) > 0.6);
  t.true(mean((i) => !p.labels[i]) < 0.2);
  // Calibrated: the mean probability is close to the base rate.
  t.true(Math.abs(mean(() => true) - 0.1) < 0.05, `mean ${mean(() => true)}`);
  await t.throwsAsync(c.predictVectors(matrix(new Float32Array(8), 8)), { message: /^vectors: dimension 8 differs/ });
  await t.throwsAsync(trainClassifier(v, p.labels.slice(1), { embedder: 'x' }), { message: /^labels: has 1499 entries/ });
});

test('CLI: mine the demo, train on its labeled set, predict new text', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-train-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const env = { SYNAPSE_G_CACHE_DIR: path.join(dir, 'cache') };
  const demo = await runChild(['demo', '--out', path.join(dir, 'run')], env);
  t.is(demo.code, 0, demo.stderr);
  const train = await runChild(['train', '--session', path.join(dir, 'run'), '--out', path.join(dir, 'model')], env);
  t.is(train.code, 0, train.stderr);
  t.regex(train.stdout, /PR-AUC \(held out\): 0\.\d+/);
  t.true(existsSync(path.join(dir, 'model', 'model.json')));
  await fsp.writeFile(path.join(dir, 'new.txt'), 'a wonderful, moving and funny film\na dull, lifeless and boring mess\n');
  const out = path.join(dir, 'scores.csv');
  const pred = await runChild(['predict', '--model', path.join(dir, 'model'), '--input', path.join(dir, 'new.txt'), '--out', out], env);
  t.is(pred.code, 0, pred.stderr);
  const rows = (await fsp.readFile(out, 'utf8')).trim().split('\n');
  t.is(rows[0], 'id,score');
  const [good, bad] = rows.slice(1).map((r) => Number(r.split(',')[1]));
  t.true(good > bad, `positive review ${good} > negative review ${bad}`);
  const missing = await runChild(['train', '--session', path.join(dir, 'nope'), '--out', path.join(dir, 'm2')], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /--session: cannot read/);
  t.false(existsSync(path.join(dir, 'm2')));
  t.truthy(REPO);
});
