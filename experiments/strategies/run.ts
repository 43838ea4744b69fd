/**
 * Which strategy finds rare positives fastest, on events of different kinds?
 *
 *   npm run experiment:strategies [-- --embedder default --draws 5]
 *
 * Corpus: the imbalanced SST-2 train split (33,088 rows) of experiments/sst2. Events:
 * - `sentiment`: positive reviews (10 %; a global direction in embedding space), seeds from
 *   SuperGen's LLM-written positive reviews;
 * - topical events, defined by keywords (the oracle is the keyword rule): `comedy` (4.6 %),
 *   `kids` (1.2 %), `horror` (1.0 %), `music` (0.6 %); seeds are the SuperGen reviews matching the
 *   same rule (LLM-written, both sentiments).
 * Methods: auto, gble, lr (B 8,000), seals, nn, random; 100 seeds a draw, --seed = draw; every run
 * stops exactly at 10 % queried (the last round is cut). Recall at 1 / 2.4 / 5 / 10 % as mean ±
 * std over the draws, and one report per event with every method's curve and band.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { matrix, type Matrix } from '../../src/kernels';
import type { MetricsRow } from '../../src/metrics';
import { mine, type MineOptions } from '../../src/mine';
import { createGroundTruthOracle } from '../../src/oracle/index';
import { writeReport, type ReportCurve } from '../../src/report/index';
import { selectRandomSeeds } from '../../src/seeds/index';
import { recallBand, summary, valueAt } from '../../src/spread';
import { stackRows, type MiningMethod } from '../../src/strategies/index';
import { loadSst2, loadSyntheticAllEmbedded } from '../sst2/data';
import { arg } from '../args';

const embedderSpec = arg('embedder', 'default');
const draws = Number(arg('draws', '5'));
const only = arg('events', '');
const RATIOS = [0.01, 0.024, 0.05, 0.1];
const METHODS: [string, MiningMethod, Partial<MineOptions>][] = [
  ['auto', 'auto', {}],
  ['gble', 'gble', {}],
  ['lr (B 8000)', 'lr', { budget: 8000 }],
  ['seals', 'seals', {}],
  ['nn', 'nn', {}],
  ['random', 'random', {}],
];
const TOPICS: Record<string, RegExp> = {
  comedy: /\b(funny|comedy|comedies|comic|laughs?|hilarious|humou?r|jokes?)\b/i,
  kids: /\b(kids?|children|child|family|families)\b/i,
  horror: /\b(horror|scary|scares?|frightening|creepy|terrifying|gore|slasher)\b/i,
  music: /\b(music|musical|soundtrack|score|songs?|singing)\b/i,
};

async function main(): Promise<void> {
  const t0 = performance.now();
  const sst2 = await loadSst2(embedderSpec);
  const synthetic = await loadSyntheticAllEmbedded(embedderSpec);
  const events: { name: string; labels: boolean[]; seeds: Matrix }[] = [
    { name: 'sentiment', labels: sst2.labels, seeds: sst2.synthetic },
  ];
  for (const [name, re] of Object.entries(TOPICS)) {
    const rows = synthetic.texts.flatMap((t, i) => (re.test(t) ? [i] : []));
    events.push({ name, labels: sst2.texts.map((t) => re.test(t)), seeds: stackRows(synthetic.vectors, rows) });
  }
  const outRoot = path.join(__dirname, 'results', embedderSpec.startsWith('hf:') ? `hf-${path.basename(embedderSpec.slice(3))}` : embedderSpec);
  const lines = [
    `SST-2 corpus (${sst2.corpus.rows} rows), embedder ${embedderSpec}, ${draws} draws of 100 seeds, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| event | positives | method | recall @1 % | @2.4 % | @5 % | @10 % | s/run |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const json: unknown[] = [];
  for (const ev of events) {
    if (only && !only.split(',').includes(ev.name)) continue;
    const oracle = createGroundTruthOracle(ev.labels);
    const positives = ev.labels.filter(Boolean).length;
    const curves: ReportCurve[] = [];
    const best = new Map<number, number>();
    const rowsOut: { method: string; recall: { mean: number; std: number }[]; seconds: number }[] = [];
    for (const [label, method, extra] of METHODS) {
      const runs: MetricsRow[][] = [];
      const t = performance.now();
      for (let d = 0; d < draws; d++) {
        const pick = selectRandomSeeds(ev.seeds.rows, 100, d);
        const seeds = stackRows(ev.seeds, Array.from(pick));
        const r = await mine({ method, corpus: sst2.corpus, seeds: matrix(seeds.data, seeds.dim), oracle, embedder: embedderSpec, maxQueryRatio: 0.1, seed: d, ...extra });
        runs.push(r.metrics);
      }
      const recall = RATIOS.map((q) => summary(runs.map((m) => valueAt(m, q))));
      recall.forEach((s, i) => best.set(i, Math.max(best.get(i) ?? 0, s.mean)));
      rowsOut.push({ method: label, recall, seconds: (performance.now() - t) / 1000 / draws });
      curves.push({ label, rows: runs[0], recallBand: recallBand(runs) });
      process.stderr.write(`${ev.name} ${label}: ${recall.map((s) => s.mean.toFixed(3)).join(' / ')}\n`);
    }
    for (const r of rowsOut) {
      const cells = r.recall.map((s, i) => {
        const v = `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
        return s.mean >= (best.get(i) ?? 0) - 1e-9 ? `**${v}**` : v;
      });
      lines.push(`| ${ev.name} | ${positives} (${((100 * positives) / sst2.corpus.rows).toFixed(1)} %) | ${r.method} | ${cells.join(' | ')} | ${r.seconds.toFixed(1)} |`);
    }
    json.push({ event: ev.name, positives, seeds: ev.seeds.rows, methods: rowsOut });
    await writeReport(path.join(outRoot, ev.name), {
      title: `Strategies on SST-2, event "${ev.name}" (${positives} positives)`,
      parameters: { embedder: embedderSpec, draws, seeds: 100, 'synthetic seeds available': ev.seeds.rows, 'budget': '10 % of the corpus' },
      timings: { total: (performance.now() - t0) / 1000 },
      curves,
      notes: [`Curves: first draw; bands: min–max recall over ${draws} draws.`],
    });
  }
  mkdirSync(outRoot, { recursive: true });
  lines.push('', `total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  writeFileSync(path.join(outRoot, 'results.md'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(outRoot, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
