/**
 * Approximate vs exact (blocked GEMM) corpus kNN graphs: build time and recall@k on generated
 * clustered vectors, build time at a larger size (exact extrapolated by n², not run), and GBLE
 * mining recall with each graph on SST-2. Backends: usearch (HNSW) and faiss-node (HNSW, IVF;
 * `bash scripts/setup-faiss.sh` first; skipped with a note when missing).
 *
 *   node --import tsx benchmarks/ann.ts [--rows 200000] [--dim 384] [--k 20] [--big 1000000] [--sst2]
 *     [--only usearch-hnsw,faiss-hnsw,faiss-ivf] [--big-only faiss-ivf] [--exact-s SECONDS]
 *
 * `--exact-s` takes the exact build time at `--rows` from an earlier run instead of measuring
 * the `--rows` part again (only the `--big` part and SST-2 then run).
 */
import { approximateKnnGraph, faissAvailable, graphRecall, type AnnGraphOptions } from '../src/ann';
import { knnGraph, matrix, type Matrix } from '../src/kernels';
import { loadSst2 } from '../experiments/sst2/data';
import { mine } from '../src/mine';
import { createGroundTruthOracle } from '../src/oracle/index';
import { selectRandomSeeds } from '../src/seeds/index';
import { valueAt } from '../src/spread';
import { corpusGraph, stackRows } from '../src/strategies/index';
import { defaultParamsFor } from '../src/defaults';
import { clustered } from './data';
import { arg } from '../experiments/args';

type Config = { name: string; opts: (n: number) => Omit<AnnGraphOptions, 'k'> };

/** The approximate graphs compared (each backend at its defaults, IVF with nlist ≈ 4·√n). */
const CONFIGS: Config[] = [
  { name: 'usearch-hnsw', opts: () => ({ index: 'hnsw', backend: 'usearch' }) },
  { name: 'faiss-hnsw', opts: () => ({ index: 'hnsw', backend: 'faiss' }) },
  { name: 'faiss-ivf', opts: () => ({ index: 'ivf', backend: 'faiss' }) },
];

/** What a config means at `n` rows, for the table. */
function describe(c: Config, n: number, k: number): string {
  const o = c.opts(n);
  if (o.backend === 'usearch') return `usearch HNSW M${o.connectivity ?? 16} efC${o.expansionAdd ?? 128} ef${o.expansionSearch ?? Math.max(64, 4 * k)}`;
  if (o.index === 'hnsw') return `faiss HNSW${o.connectivity ?? 32},Flat efC${o.expansionAdd ?? 40} ef${o.expansionSearch ?? Math.max(64, 4 * k)}`;
  const nlist = o.nlist ?? Math.min(Math.floor(n / 39), Math.round(4 * Math.sqrt(n)));
  return `faiss IVF${nlist},Flat nprobe ${o.nprobe ?? 16}`;
}

const seconds = (t: number) => (performance.now() - t) / 1000;
const log = (s: string) => process.stderr.write(`${s}\n`);

function build(x: Matrix, k: number, c: Config): { s: number; g: ReturnType<typeof approximateKnnGraph> } {
  const t = performance.now();
  const g = approximateKnnGraph(x, { k, ...c.opts(x.rows) });
  return { s: seconds(t), g };
}

async function main(): Promise<void> {
  const rows = Number(arg('rows', '200000'));
  const dim = Number(arg('dim', '384'));
  const k = Number(arg('k', '20'));
  const big = Number(arg('big', '0'));
  const only = arg('only', CONFIGS.map((c) => c.name).join(',')).split(',');
  const configs = CONFIGS.filter((c) => only.includes(c.name) && (c.opts(1).backend !== 'faiss' || faissAvailable()));
  const lines = [`kNN graph, ${rows} × ${dim}, k = ${k} (${new Date().toISOString().slice(0, 10)})`];
  if (!faissAvailable()) lines.push('', 'faiss-node is not built (bash scripts/setup-faiss.sh): faiss rows skipped.');

  const given = arg('exact-s', '');
  let exactS = Number(given);
  let t = performance.now();
  if (given === '') {
    const x = matrix(clustered(rows, dim, Math.max(10, Math.round(rows / 1000)), 7), dim);
    const exact = await knnGraph(x, { k });
    exactS = seconds(t);
    lines.push('', '| graph | build s | recall@k vs exact | speed-up |', '|---|---|---|---|', `| exact (blocked GEMM, Rust) | ${exactS.toFixed(1)} | 1.000 | 1.0× |`);
    log(lines[lines.length - 1]);
    for (const c of configs) {
      const { s, g } = build(x, k, c);
      lines.push(`| ${describe(c, rows, k)} | ${s.toFixed(1)} | ${graphRecall(g, exact).toFixed(3)} | ${(exactS / s).toFixed(1)}× |`);
      log(lines[lines.length - 1]);
    }
  } else {
    lines.push('', `exact build at ${rows} rows given: ${exactS} s (--exact-s, from an earlier run)`);
  }

  if (big > 0) {
    const bigOnly = arg('big-only', configs.map((c) => c.name).join(',')).split(',');
    t = performance.now();
    const xb = matrix(clustered(big, dim, Math.max(10, Math.round(big / 1000)), 11), dim);
    log(`generated ${big} × ${dim} in ${seconds(t).toFixed(0)} s`);
    const exactBig = exactS * (big / rows) ** 2;
    lines.push(
      '',
      `Build at ${big} × ${dim}, k = ${k}: exact NOT run, extrapolated from ${rows} rows by (n ratio)² = ${((big / rows) ** 2).toFixed(0)}×`,
      '',
      '| graph | build s | speed-up vs exact (extrapolated) |',
      '|---|---|---|',
      `| exact (extrapolated) | ≈ ${exactBig.toFixed(0)} | 1.0× |`,
    );
    log(lines[lines.length - 1]);
    for (const c of configs.filter((cc) => bigOnly.includes(cc.name))) {
      const { s } = build(xb, k, c);
      lines.push(`| ${describe(c, big, k)} | ${s.toFixed(1)} | ${(exactBig / s).toFixed(1)}× |`);
      log(lines[lines.length - 1]);
    }
  }

  if (process.argv.includes('--sst2')) {
    const data = await loadSst2('default');
    const oracle = createGroundTruthOracle(data.labels);
    lines.push('', `| SST-2 GBLE (defaults, ${data.corpus.rows} rows), mean of 3 draws | graph build s | recall @5 % | recall @10 % |`, '|---|---|---|---|');
    const graphs = [{ name: 'exact', index: 'exact' as const }, ...configs.map((c) => ({ name: c.name, ...(c.opts(data.corpus.rows) as { index: 'hnsw' | 'ivf'; backend: 'usearch' | 'faiss' }) }))];
    for (const gr of graphs) {
      const r5: number[] = [];
      const r10: number[] = [];
      const params = defaultParamsFor('default', 'gble');
      const annBackend = gr.index === 'exact' ? undefined : (gr as { backend: 'usearch' | 'faiss' }).backend;
      t = performance.now();
      await corpusGraph(data.corpus, { dmax: params.dmax, tau: params.tau, index: gr.index, annBackend }); // cached: mine reuses it
      const graphS = seconds(t);
      for (let d = 0; d < 3; d++) {
        const seeds = stackRows(data.synthetic, Array.from(selectRandomSeeds(data.synthetic.rows, 100, d)));
        const res = await mine({
          method: 'gble',
          corpus: data.corpus,
          seeds,
          oracle,
          index: gr.index,
          ...(annBackend ? { annBackend } : {}),
          maxQueryRatio: 0.1,
          seed: d,
          embedder: 'default',
        });
        r5.push(valueAt(res.metrics, 0.05));
        r10.push(valueAt(res.metrics, 0.1));
      }
      const mean = (a: number[]) => (a.reduce((p, q) => p + q, 0) / a.length).toFixed(3);
      lines.push(`| ${gr.name} graph | ${graphS.toFixed(1)} | ${mean(r5)} | ${mean(r10)} |`);
      log(lines[lines.length - 1]);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
