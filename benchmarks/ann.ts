/**
 * Approximate (HNSW, usearch) vs exact (blocked GEMM) corpus kNN graphs: build time and
 * recall@k on generated clustered vectors, and GBLE mining recall with each graph on SST-2.
 *
 *   node --import tsx benchmarks/ann.ts [--rows 200000] [--dim 384] [--k 20] [--sst2]
 */
import { approximateKnnGraph, graphRecall } from '../src/ann';
import { knnGraph, matrix } from '../src/kernels';
import { loadSst2 } from '../experiments/sst2/data';
import { mine } from '../src/mine';
import { createGroundTruthOracle } from '../src/oracle/index';
import { selectRandomSeeds } from '../src/seeds/index';
import { valueAt } from '../src/spread';
import { stackRows } from '../src/strategies/index';
import { clustered } from './data';
import { arg } from '../experiments/args';

async function main(): Promise<void> {
  const rows = Number(arg('rows', '200000'));
  const dim = Number(arg('dim', '384'));
  const k = Number(arg('k', '20'));
  const x = matrix(clustered(rows, dim, Math.max(10, Math.round(rows / 1000)), 7), dim);
  let t = performance.now();
  const exact = await knnGraph(x, { k });
  const exactS = (performance.now() - t) / 1000;
  const lines = [`kNN graph, ${rows} × ${dim}, k = ${k} (${new Date().toISOString().slice(0, 10)})`, '', '| graph | build s | recall@k vs exact | speed-up |', '|---|---|---|---|', `| exact (blocked GEMM) | ${exactS.toFixed(1)} | 1.000 | 1.0× |`];
  for (const [name, opts] of [
    ['hnsw M16 efC128 ef80', { connectivity: 16, expansionAdd: 128, expansionSearch: 80 }],
    ['hnsw M16 efC64 ef64', { connectivity: 16, expansionAdd: 64, expansionSearch: 64 }],
  ] as const) {
    t = performance.now();
    const g = approximateKnnGraph(x, { k, ...opts });
    const s = (performance.now() - t) / 1000;
    lines.push(`| ${name} (usearch) | ${s.toFixed(1)} | ${graphRecall(g, exact).toFixed(3)} | ${(exactS / s).toFixed(1)}× |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  if (process.argv.includes('--sst2')) {
    const data = await loadSst2('default');
    const oracle = createGroundTruthOracle(data.labels);
    lines.push('', '| SST-2 GBLE (defaults), mean of 3 draws | recall @5 % | recall @10 % |', '|---|---|---|');
    for (const index of ['exact', 'hnsw'] as const) {
      const r5: number[] = [];
      const r10: number[] = [];
      for (let d = 0; d < 3; d++) {
        const seeds = stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d)));
        const m = (await mine({ method: 'gble', corpus: data.corpus, seeds, oracle, index, maxQueryRatio: 0.1, seed: d, embedder: 'default' })).metrics;
        r5.push(valueAt(m, 0.05));
        r10.push(valueAt(m, 0.1));
      }
      const mean = (a: number[]) => (a.reduce((x, y) => x + y, 0) / a.length).toFixed(3);
      lines.push(`| ${index} graph | ${mean(r5)} | ${mean(r10)} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
