import test from 'ava';
import { estimateTheoryInputs, InvalidArgumentError, matrix, proposition1 } from '../src/index';
import { runChild } from './helpers/cli';

test('Proposition 1 matches the counting argument of its proof', (t) => {
  const input = { p: 0.8, q1: 0.3, q2: 0.5, d: 10, h: 6, seeds: 50, vertices: 10000 };
  const r = proposition1(input);
  // From the proof: |S+| = p|S|, |S1| = (2h - d - 2)|S+|, |S2| = (d + 1 - h)|S+|, |Q| = |S-| + |N(S+)|.
  const sp = input.p * input.seeds;
  const s1 = (2 * input.h - input.d - 2) * sp;
  const s2 = (input.d + 1 - input.h) * sp;
  const positives = sp + input.q1 * s1 + input.q2 * s2;
  const queried = (1 - input.p) * input.seeds + input.h * sp;
  t.true(Math.abs(r.positives - positives) < 1e-9);
  t.true(Math.abs(r.queried - queried) < 1e-9);
  t.true(Math.abs(r.precision - positives / queried) < 1e-12);
  t.true(Math.abs(r.recall - positives / input.vertices) < 1e-12);
  t.true(Math.abs(r.threshold - (2 * 0.3 - 0.5) / (1 + 0.2 * 10)) < 1e-12);
  t.is(r.regime, 'high');
  t.deepEqual(r.warnings, []);
  // Recall grows with validity and diversity; in the high-validity regime precision falls with h.
  t.true(proposition1({ ...input, h: 7 }).recall > r.recall);
  t.true(proposition1({ ...input, p: 0.9 }).recall > r.recall);
  t.true(proposition1({ ...input, h: 7 }).precision < r.precision);
  t.true(proposition1({ ...input, p: 0.01 }).regime === 'low');
});

test('assumption warnings and argument errors', (t) => {
  const r = proposition1({ p: 1, q1: 0.3, q2: 0.7, d: 2, h: 5, seeds: 1, vertices: 10 });
  t.is(r.warnings.length, 2);
  t.throws(() => proposition1({ p: 0, q1: 0.3, q2: 0.5, d: 2, h: 2, seeds: 1, vertices: 10 }), { instanceOf: InvalidArgumentError, message: /^p:/ });
  t.throws(() => proposition1({ p: 1, q1: 0.3, q2: 0.5, d: 2, h: 0.5, seeds: 1, vertices: 10 }), { message: /^h:/ });
});

test('estimates d, h(S+), q1 and q2 from the seeds graph', async (t) => {
  // Corpus rows on the unit circle; two seeds. Row 1 is near both seeds.
  const angle = [0, 0.5, 1, 3, 3.1];
  const corpus = matrix(Float32Array.from(angle.flatMap((a) => [Math.cos(a), Math.sin(a)])), 2);
  const seeds = matrix(Float32Array.from([Math.cos(0.2), Math.sin(0.2), Math.cos(0.8), Math.sin(0.8)]), 2);
  const e = await estimateTheoryInputs(corpus, seeds, { tau: 0.7, dmax: 2, labels: [true, true, false, false, false] });
  // Seed 0 (0.2 rad): rows 0 and 1; seed 1 (0.8 rad): rows 2 and 1.
  t.is(e.d, 2);
  t.is(e.adjacentToTwoOrMore, 1);
  t.is(e.adjacentToOne, 2);
  t.is(e.h, (2 + 3) / 2);
  t.is(e.q1, 0.5);
  t.is(e.q2, 1);
  t.is(e.measuredPrecision, (2 + 2) / (2 + 3));
});

test('synapse-g theory: from numbers, and a clear error without q1', async (t) => {
  const ok = await runChild(['theory', '--q1', '0.3', '--d', '10', '--h', '6', '--num-seeds', '50', '--corpus-size', '10000', '--p', '0.8', '--json']);
  t.is(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { result: { precision: number }; source: Record<string, string> };
  t.true(Math.abs(out.result.precision - proposition1({ p: 0.8, q1: 0.3, q2: 0.51, d: 10, h: 6, seeds: 50, vertices: 10000 }).precision) < 1e-12);
  t.regex(out.source.q2, /2·q1 − q1²/);
  const bad = await runChild(['theory', '--d', '10', '--h', '6', '--num-seeds', '50', '--corpus-size', '100']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--q1: is needed/);
});
