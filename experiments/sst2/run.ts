/**
 * Reproduce the paper's SST-2 experiments (§6, Figs. 2–4) with synapse-g's API:
 *
 *   npm run experiment:sst2 [-- --embedder default|hf:DIR --draws 3 --out experiments/sst2/results]
 *
 * - Fig. 2: random vs ACS seeds with the one-shot bipartite graph, τ ∈ {0.7, 0.8} (plus 0.5, where
 *   USE-lite has edges), several d_max: recall and precision of the rows queried.
 * - Fig. 3: IBG vs GBLE with the ideal (ground-truth) oracle, beside NN and the LR baseline, at the
 *   reference settings and at synapse-g's defaults; recall against query ratio, spread over draws.
 * - Fig. 4: the LR baseline's inference budget B from 1,000 to all rows.
 *
 * Each figure gets a report (HTML + PNG) under --out, and results.json/results.md hold every
 * number. Embeddings are cached under experiments/cache/, so only the first run embeds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultParamsFor } from '../../src/defaults';
import type { Matrix } from '../../src/kernels';
import { mine, type MineOptions } from '../../src/mine';
import { createGroundTruthOracle } from '../../src/oracle/index';
import { writeReport, type ReportCurve } from '../../src/report/index';
import { selectAcsSeeds, selectRandomSeeds } from '../../src/seeds/index';
import { recallBand, summary, valueAt } from '../../src/spread';
import { stackRows } from '../../src/strategies/strategy';
import type { MetricsRow } from '../../src/metrics';
import { loadSst2 } from './data';
import { arg } from '../args';

const embedderSpec = arg('embedder', 'default');
const draws = Number(arg('draws', '3'));
const embedderName = embedderSpec.startsWith('hf:') ? `hf-${path.basename(embedderSpec.slice(3))}` : embedderSpec.replace(/[^\w.-]+/g, '_');
const outRoot = path.resolve(arg('out', path.join(__dirname, 'results')), embedderName);
const RATIOS = [0.024, 0.05, 0.1];

/** Reference recall (at 2.4 / 5 / 10 % queried) of a reference implementation with USE-lite. */
const REFERENCE: Record<string, number[]> = {
  'GBLE (kNN-20, K0 25)': [0.1, 0.19, 0.45],
  'LR baseline (B 8000)': [0.18, 0.35, 0.54],
  'IBG (τ 0.7, d_max 50)': [0.03, 0.07, 0.19],
  NN: [0.04, 0.08, 0.14],
};

interface Row {
  figure: string;
  name: string;
  recall: { mean: number; std: number }[];
  precision?: { mean: number; std: number };
  queryRatio?: { mean: number; std: number };
  seconds: number;
  stop: string;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const data = await loadSst2(embedderSpec);
  const tLoad = (performance.now() - t0) / 1000;
  const oracle = createGroundTruthOracle(data.labels);
  const randomSeeds: Matrix[] = [];
  for (let d = 0; d < draws; d++) randomSeeds.push(stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d))));
  const acs = await selectAcsSeeds(data.synthetic, 100, { coverage: 0.5 });
  const acsSeeds = stackRows(data.synthetic, Array.from(acs.indices));
  const results: Row[] = [];
  const base = { corpus: data.corpus, oracle, embedder: embedderSpec } as const;

  /** Run `opts` once per draw (random seeds) and summarise. */
  const memo = new Map<string, { runs: MetricsRow[][]; stop: string; seconds: number }>();
  async function run(figure: string, name: string, opts: Partial<MineOptions>, seedsPerDraw: readonly Matrix[] = randomSeeds): Promise<MetricsRow[][]> {
    const key = `${JSON.stringify(opts)}|${seedsPerDraw === randomSeeds ? 'random' : 'acs'}`;
    const t = performance.now();
    let runs: MetricsRow[][] = [];
    let stop = '';
    const hit = memo.get(key);
    if (hit) {
      runs = hit.runs;
      stop = hit.stop;
    } else {
      for (let d = 0; d < seedsPerDraw.length; d++) {
        const r = await mine({ ...base, method: 'gble', seeds: seedsPerDraw[d], maxQueryRatio: 0.1, seed: d, ...opts } as MineOptions);
        runs.push(r.metrics);
        stop = r.stopReason;
      }
      memo.set(key, { runs, stop, seconds: (performance.now() - t) / 1000 / seedsPerDraw.length });
    }
    const last = runs.map((m) => m[m.length - 1]);
    results.push({
      figure,
      name,
      recall: RATIOS.map((q) => summary(runs.map((m) => valueAt(m, q)))),
      ...(opts.method === 'bipartite'
        ? { precision: summary(last.map((m) => m?.precision ?? 0)), queryRatio: summary(last.map((m) => m?.query_ratio ?? 0)) }
        : {}),
      seconds: memo.get(key)?.seconds ?? 0,
      stop,
    });
    process.stderr.write(`${figure} ${name}: done\n`);
    return runs;
  }

  // Fig. 2: seeds + one-shot bipartite graph.
  const fig2: ReportCurve[] = [];
  for (const tau of [0.5, 0.7, 0.8]) {
    for (const dmax of [10, 20, 50, 100, 200]) {
      for (const [label, seeds] of [['random', randomSeeds], ['ACS', [acsSeeds]]] as const) {
        const runs = await run('fig2', `${label} seeds, τ ${tau}, d_max ${dmax}`, { method: 'bipartite', tau, dmax, maxQueryRatio: 1 }, seeds);
        if (runs[0].length > 0) fig2.push({ label: `${label} τ${tau} d${dmax}`, rows: runs[0] });
      }
    }
  }

  // Fig. 3: IBG vs GBLE (ideal oracle), with NN and LR for reference.
  const fig3: ReportCurve[] = [];
  const defaults = defaultParamsFor(embedderSpec, 'gble');
  const ibgDefaults = defaultParamsFor(embedderSpec, 'ibg');
  const curves: [string, Partial<MineOptions>][] = [
    ['GBLE (kNN-20, K0 25)', { method: 'gble', tau: 0, dmax: 20, k0: 25, iterations: 20, negativeLabel: 0 }],
    [`GBLE (synapse-g defaults: τ ${defaults.tau}, d_max ${defaults.dmax}, K0 ${defaults.k0}, T ${defaults.iterations}, negatives ${defaults.negativeLabel})`, { method: 'gble' }],
    ['IBG (τ 0.7, d_max 50)', { method: 'ibg', tau: 0.7, dmax: 50 }],
    [`IBG (synapse-g defaults: τ ${ibgDefaults.tau}, d_max ${ibgDefaults.dmax})`, { method: 'ibg' }],
    ['NN', { method: 'nn', k0: 100 }],
    ['LR baseline (B 8000)', { method: 'lr', budget: 8000 as number | undefined, k0: 25 }],
    ['random', { method: 'random', k0: 100 }],
  ];
  for (const [name, opts] of curves) {
    const runs = await run('fig3', name, opts);
    fig3.push({ label: name, rows: runs[0], recallBand: recallBand(runs) });
  }
  const acsGble = await run('fig3', 'GBLE (defaults) with ACS seeds', { method: 'gble' }, [acsSeeds]);
  fig3.push({ label: 'GBLE (defaults), ACS seeds', rows: acsGble[0] });

  // Fig. 4: the LR baseline's inference budget.
  const fig4: ReportCurve[] = [];
  for (const budget of [1000, 2000, 4000, 8000, undefined]) {
    const name = `LR baseline, B ${budget ?? 'all'}`;
    const runs = await run('fig4', name, { method: 'lr', budget, k0: 25 });
    fig4.push({ label: name, rows: runs[0], recallBand: recallBand(runs) });
  }

  const total = (performance.now() - t0) / 1000;
  mkdirSync(outRoot, { recursive: true });
  const parameters = {
    embedder: embedderSpec,
    'corpus rows': data.corpus.rows,
    'corpus positives': data.labels.filter(Boolean).length,
    'synthetic positives (SuperGen)': data.synthetic.rows,
    seeds: 100,
    'seed draws': draws,
    'ACS threshold t': Number(acs.threshold.toFixed(4)),
    'ACS coverage': Number(acs.coverage.toFixed(4)),
  };
  const timings = { 'load + embed (cached after the first run)': tLoad, 'all runs': total - tLoad };
  const note = `Curves show the first seed draw; bands the min–max recall over ${draws} draws of 100 random seeds.`;
  await writeReport(path.join(outRoot, 'fig2'), { title: 'SST-2 Fig. 2: random vs ACS seeds, one-shot bipartite graph', parameters, timings, curves: fig2, notes: ['Each point is one one-shot run.'] });
  await writeReport(path.join(outRoot, 'fig3'), { title: 'SST-2 Fig. 3: IBG vs GBLE with the ideal oracle', parameters, timings, curves: fig3, notes: [note] });
  await writeReport(path.join(outRoot, 'fig4'), { title: 'SST-2 Fig. 4: LR baseline inference budget', parameters, timings, curves: fig4, notes: [note] });

  const pct = (x: number): string => x.toFixed(3);
  const lines = [
    `SST-2 (${data.corpus.rows} rows, ${data.labels.filter(Boolean).length} positive), embedder ${embedderSpec}, ${draws} seed draws, ${new Date().toISOString().slice(0, 10)}, total ${total.toFixed(1)} s (load ${tLoad.toFixed(1)} s)`,
    '',
    `ACS: t = ${acs.threshold.toFixed(4)}, coverage ${(100 * acs.coverage).toFixed(1)} %`,
    '',
    '| figure | run | recall @2.4 % | recall @5 % | recall @10 % | precision | query ratio | reference @2.4/5/10 % | s/draw |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const ref = REFERENCE[r.name];
      return `| ${r.figure} | ${r.name} | ${r.recall.map((s) => `${pct(s.mean)} ± ${pct(s.std)}`).join(' | ')} | ${r.precision ? pct(r.precision.mean) : ''} | ${r.queryRatio ? pct(r.queryRatio.mean) : ''} | ${ref ? ref.join(' / ') : ''} | ${r.seconds.toFixed(2)} |`;
    }),
  ];
  writeFileSync(path.join(outRoot, 'results.md'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(outRoot, 'results.json'), `${JSON.stringify({ parameters, acs: { threshold: acs.threshold, coverage: acs.coverage }, results, seconds: total }, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n\nreports: ${path.join(outRoot, 'fig2', 'report.html')}, fig3, fig4\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
