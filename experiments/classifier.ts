/**
 * How good is a classifier trained on a mined labeled set? (issue: "the classifier trained on
 * GBLE's labeled set at 5 % query ratio is compared on SST-2 dev (PR-AUC) with one trained on the
 * fully labeled imbalanced train split").
 *
 *   npm run experiment:classifier [-- --embedder default --draws 3]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { averagePrecision, classifierLogits, trainClassifier } from '../src/classifier/model';
import { resolveEmbedder } from '../src/embed/index';
import { matrix } from '../src/kernels';
import { mine, type MineOptions } from '../src/mine';
import { createGroundTruthOracle } from '../src/oracle/index';
import { selectRandomSeeds } from '../src/seeds/index';
import { summary } from '../src/spread';
import { stackRows } from '../src/strategies/index';
import { SHARED } from './sst2/corpus';
import { loadSst2 } from './sst2/data';
import { arg } from './args';

const spec = arg('embedder', 'default');
const draws = Number(arg('draws', '3'));

async function main(): Promise<void> {
  const data = await loadSst2(spec);
  const dev = readFileSync(path.join(SHARED, 'sst2', 'dev.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const devTexts = dev.map((l) => l.slice(0, l.lastIndexOf('\t')).trim());
  const devLabels = dev.map((l) => l.slice(l.lastIndexOf('\t') + 1).trim() === '1');
  const e = await resolveEmbedder(spec);
  const devX = matrix(await e.embed(devTexts), e.dim);
  await e.close?.();
  const oracle = createGroundTruthOracle(data.labels);
  const lines = [
    `SST-2 dev PR-AUC (${devTexts.length} sentences, ${devLabels.filter(Boolean).length} positive) of logistic regression trained on: ` +
      `embedder ${spec}, ${draws} seed draws, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| training set | rows (positives) | dev PR-AUC |',
    '|---|---|---|',
  ];
  const full = await trainClassifier(data.corpus, data.labels, { embedder: spec, seed: 0 });
  lines.push(`| the fully labeled imbalanced train split | ${data.corpus.rows} (${data.labels.filter(Boolean).length}) | ${averagePrecision(classifierLogits(full, devX), devLabels).toFixed(3)} |`);
  for (const [name, opts] of [
    ['GBLE (paper settings: kNN-20, K0 25)', { method: 'gble', tau: 0, dmax: 20, k0: 25, iterations: 20, negativeLabel: 0 }],
    ['auto (default)', { method: 'auto' }],
    ['random', { method: 'random', k0: 100 }],
  ] as [string, Partial<MineOptions>][]) {
    const ap: number[] = [];
    let rows = 0;
    let pos = 0;
    for (let d = 0; d < draws; d++) {
      const pick = Array.from(selectRandomSeeds(data.synthetic.rows, 100, d));
      const seeds = stackRows(data.synthetic, pick);
      const r = await mine({ ...opts, corpus: data.corpus, seeds, oracle, embedder: spec, maxQueryRatio: 0.05, seed: d } as MineOptions);
      // The labeled set: the 100 seeds (positive) and every queried row.
      const x = stackRows(data.corpus, r.labeled.map((l) => l.row), seeds);
      const y = [...pick.map(() => true), ...r.labeled.map((l) => l.label)];
      const model = await trainClassifier(matrix(x.data, x.dim), y, { embedder: spec, seed: d, evaluable: y.map((_, i) => i >= pick.length) });
      ap.push(averagePrecision(classifierLogits(model, devX), devLabels));
      rows = y.length;
      pos = y.filter(Boolean).length;
    }
    const s = summary(ap);
    lines.push(`| ${name}: 100 seeds + rows queried up to 5 % | ${rows} (${pos}) | ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  writeFileSync(path.join(__dirname, 'classifier.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
