/**
 * The out-of-core IVF graph (`mine-large`) against the exact graph on real embeddings: GBLE on
 * the SST-2 experiment corpus (USE-lite vectors, cached by `npm run experiment:sst2`) with the
 * same seeds and parameters, mining recall at 5 % and 10 % of the corpus queried, mean of 3 seed
 * draws, and the graph's build time.
 *
 *   node --import tsx benchmarks/scale-sst2.ts [--probes 3,6]
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg } from '../experiments/args';
import { loadSst2 } from '../experiments/sst2/data';
import { defaultParamsFor } from '../src/defaults';
import { writeNpyFloat32 } from '../src/io/vectors';
import { mine } from '../src/mine';
import { createGroundTruthOracle } from '../src/oracle/index';
import { createTruthOracle, mineLarge } from '../src/scale/mine-large';
import { selectRandomSeeds } from '../src/seeds/index';
import { valueAt } from '../src/spread';
import { corpusGraph, stackRows } from '../src/strategies/index';

const DRAWS = 3;

async function main(): Promise<void> {
  const data = await loadSst2('default');
  const n = data.corpus.rows;
  const params = defaultParamsFor('default', 'gble');
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-scale-sst2-'));
  const shard = path.join(dir, 'corpus.npy');
  await writeNpyFloat32(shard, data.corpus.data, [n, data.corpus.dim]);
  const truth = Uint8Array.from(data.labels, (l) => (l ? 1 : 0));
  const mean = (a: number[]) => (a.reduce((p, q) => p + q, 0) / a.length).toFixed(3);
  const lines = [
    `| SST-2 GBLE (${n} rows, τ ${params.tau}, d_max ${params.dmax}, K0 ${params.k0}), mean of ${DRAWS} draws | graph build s | recall @5 % | recall @10 % |`,
    '|---|---|---|---|',
  ];
  let t = performance.now();
  await corpusGraph(data.corpus, { dmax: params.dmax, tau: params.tau });
  const exactS = (performance.now() - t) / 1000;
  const r5: number[] = [];
  const r10: number[] = [];
  for (let d = 0; d < DRAWS; d++) {
    const seeds = stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d)));
    const res = await mine({ method: 'gble', corpus: data.corpus, seeds, oracle: createGroundTruthOracle(data.labels), ...params, maxQueryRatio: 0.1, seed: d });
    r5.push(valueAt(res.metrics, 0.05));
    r10.push(valueAt(res.metrics, 0.1));
  }
  lines.push(`| exact graph (in memory) | ${exactS.toFixed(1)} | ${mean(r5)} | ${mean(r10)} |`);
  process.stderr.write(`${lines[lines.length - 1]}\n`);
  for (const probes of arg('probes', '3,6').split(',').map(Number)) {
    const q5: number[] = [];
    const q10: number[] = [];
    let graphS = 0;
    let lists = 0;
    for (let d = 0; d < DRAWS; d++) {
      const seeds = stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d)));
      const res = await mineLarge({
        vectors: [shard],
        seeds,
        oracle: createTruthOracle(truth, n),
        workDir: path.join(dir, `work-${probes}`),
        tau: params.tau,
        dmax: params.dmax,
        k0: params.k0,
        iterations: params.iterations,
        negativeLabel: params.negativeLabel,
        probes,
        maxQueryRatio: 0.1,
      });
      if (d === 0) graphS = res.timings.graph;
      lists = res.graph.lists;
      q5.push(valueAt(res.metrics, 0.05));
      q10.push(valueAt(res.metrics, 0.1));
    }
    lines.push(`| IVF graph on disk (${lists} lists, probes ${probes}) | ${graphS.toFixed(1)} | ${mean(q5)} | ${mean(q10)} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  await fsp.rm(dir, { recursive: true, force: true });
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
