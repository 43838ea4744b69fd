/**
 * Which embedder finds rare positives best? For each embedder: 10-NN label agreement on SST-2 dev
 * (the share of each sentence's 10 nearest dev neighbours with its sentiment: how much the label
 * shapes the neighbourhoods the graph methods walk), and mining recall of `auto` and `gble` at
 * 5 % and 10 % queried on the SST-2 setting of experiments/sst2 (3 seed draws).
 *
 *   npm run experiment:embedders [-- --embedders default,hf:.cache/models/all-MiniLM-L6-v2]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { resolveEmbedder } from '../src/embed/index';
import { knnGraph, matrix } from '../src/kernels';
import type { MetricsRow } from '../src/metrics';
import { mine } from '../src/mine';
import { createGroundTruthOracle } from '../src/oracle/index';
import { selectRandomSeeds } from '../src/seeds/index';
import { summary, valueAt } from '../src/spread';
import { stackRows } from '../src/strategies/index';
import { SHARED } from './sst2/corpus';
import { loadSst2 } from './sst2/data';
import { arg } from './args';

const specs = arg('embedders', 'default,hf:.cache/models/all-MiniLM-L6-v2').split(',');

async function main(): Promise<void> {
  const dev = readFileSync(path.join(SHARED, 'sst2', 'dev.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const texts = dev.map((l) => l.slice(0, l.lastIndexOf('\t')).trim());
  const labels = dev.map((l) => l.slice(l.lastIndexOf('\t') + 1).trim() === '1');
  const lines = [
    `SST-2, ${new Date().toISOString().slice(0, 10)}; recall: mean over 3 seed draws of 100 SuperGen seeds, 33,088-row corpus`,
    '',
    '| embedder | dim | 10-NN label agreement (dev) | auto recall @5 % / @10 % | gble recall @5 % / @10 % |',
    '|---|---|---|---|---|',
  ];
  for (const spec of specs) {
    const e = await resolveEmbedder(spec);
    const v = matrix(await e.embed(texts), e.dim);
    const g = await knnGraph(v, { k: 10 });
    let agree = 0;
    for (let i = 0; i < v.rows; i++) {
      for (let p = g.offsets[i]; p < g.offsets[i + 1]; p++) if (labels[g.ids[p]] === labels[i]) agree++;
    }
    const data = await loadSst2(spec);
    const oracle = createGroundTruthOracle(data.labels);
    const recall: Record<string, string> = {};
    for (const method of ['auto', 'gble'] as const) {
      const runs: MetricsRow[][] = [];
      for (let d = 0; d < 3; d++) {
        const seeds = stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d)));
        runs.push((await mine({ method, corpus: data.corpus, seeds, oracle, embedder: spec, maxQueryRatio: 0.1, seed: d })).metrics);
      }
      recall[method] = [0.05, 0.1].map((q) => summary(runs.map((m) => valueAt(m, q))).mean.toFixed(3)).join(' / ');
    }
    lines.push(`| ${spec} | ${e.dim} | ${(agree / g.ids.length).toFixed(3)} | ${recall.auto} | ${recall.gble} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
    await e.close?.();
  }
  const out = path.join(__dirname, 'embedders.md');
  writeFileSync(out, `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
