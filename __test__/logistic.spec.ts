import test from 'ava';
import { scoreLogistic, trainLogistic } from '../src/classifier/logistic';
import { InvalidArgumentError, matrix } from '../src/index';
import { plantedCorpus } from './helpers/random';

test('separates a planted positive class, scores in (0, 1)', async (t) => {
  const p = plantedCorpus(600, 60, 1, 11, 16, 1);
  const x = matrix(p.corpus, p.dim);
  const rows = Array.from({ length: 400 }, (_, i) => i);
  const model = await trainLogistic(x, rows, rows.map((i) => p.labels[i]));
  const s = await scoreLogistic(model, x);
  let correct = 0;
  for (let i = 400; i < 600; i++) if (s[i] > 0.5 === p.labels[i]) correct++;
  t.true(correct / 200 > 0.9, `held-out accuracy ${correct / 200}`);
  for (const v of s) t.true(v > 0 && v < 1);
  // Positives outrank negatives on average.
  const mean = (f: (i: number) => boolean) => {
    const xs = [...s].filter((_, i) => f(i));
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  t.true(mean((i) => p.labels[i]) > mean((i) => !p.labels[i]) + 0.3);
});

test('warm start continues from a model; deterministic', async (t) => {
  const p = plantedCorpus(300, 30, 1, 12, 16, 1);
  const x = matrix(p.corpus, p.dim);
  const rows = Array.from({ length: 300 }, (_, i) => i);
  const a = await trainLogistic(x, rows, p.labels, { iterations: 50 });
  const b = await trainLogistic(x, rows, p.labels, { iterations: 50 });
  t.deepEqual(Array.from(a.weights), Array.from(b.weights));
  const c = await trainLogistic(x, rows, p.labels, { iterations: 1, init: a });
  t.true(Math.abs(c.bias - a.bias) < Math.abs(a.bias) + 1);
  t.is((await scoreLogistic(a, x, [0, 1])).length, 2);
});

test('bad input names the argument', async (t) => {
  const x = matrix(new Float32Array([1, 0, 0, 1]), 2);
  await t.throwsAsync(trainLogistic(x, [0, 1], [true, true]), { instanceOf: InvalidArgumentError, message: /^y: needs at least one positive and one negative/ });
  await t.throwsAsync(trainLogistic(x, [0, 5], [true, false]), { message: /^rows: row 5 is outside/ });
  await t.throwsAsync(trainLogistic(x, [0], [true, false]), { message: /^y: has 2 labels for 1 rows/ });
  await t.throwsAsync(scoreLogistic({ weights: new Float64Array(3), bias: 0 }, x), { message: /^x: dimension 2 differs/ });
});
