/**
 * Out-of-core GBLE at scale: a planted corpus of N × 384 clustered vectors (written once into
 * --dir as 1M-row .npy shards, with a ground-truth column), mined by `synapse-g mine-large`
 * in a child process under --memory-limit. Prints one table row per size: graph build time by
 * stage, seed-edge pass, propagation per round, peak RSS of the child, the graph's recall@k
 * against exact neighbours for a random sample of rows (exact by one streaming pass over the
 * corpus), and mining recall; then a linear extrapolation to 100 M rows.
 *
 *   node --import tsx benchmarks/scale.ts [--rows 1000000,10000000] [--dir benchmarks/out/scale]
 *     [--memory-limit 12G] [--probes 3] [--max-queries 20000] [--k0 500] [--sample 200]
 *
 * Disk: 1.5 GB per million rows for the vectors, about 0.3 GB per million for the graph.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { arg } from '../experiments/args';
import native from '../src/native';
import { openShards, withProgress, writePlantedCorpus } from '../src/scale/mine-large';

const REPO = path.resolve(__dirname, '..');
const sizes = arg('rows', '1000000,10000000').split(',').map(Number);
const root = path.resolve(arg('dir', path.join(REPO, 'benchmarks/out/scale')));
const memoryLimit = arg('memory-limit', '12G');
const probes = arg('probes', '3');
const maxQueries = arg('max-queries', '20000');
const k0 = arg('k0', '500');
const sample = Number(arg('sample', '200'));
const dmax = 20;

interface RunJson {
  graph: { lists: number; edges: number; isolated: number; seconds: number[]; resumedBlocks: number };
  timings: { graph: number; seedEdges: number; propagatePerRound: number; rounds: number };
  peakRssBytes: number;
}

function runCli(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', (code) => resolve(code));
  });
}

/** Recall@dmax of the graph's own lists (before symmetrisation) for `sample` evenly spread rows. */
async function graphRecall(shards: string[], graphDir: string, n: number): Promise<number> {
  const store = openShards(shards);
  const d = store.dim;
  const rows = Array.from({ length: sample }, (_, j) => Math.floor(((j + 0.5) * n) / sample));
  // The sample's vectors, read from the shards (1M rows each).
  const q = new Float32Array(sample * d);
  const fh = new Map<string, fsp.FileHandle>();
  for (const [j, r] of rows.entries()) {
    const shard = shards[Math.floor(r / 1_000_000)];
    let h = fh.get(shard);
    if (!h) {
      h = await fsp.open(shard, 'r');
      fh.set(shard, h);
    }
    const buf = Buffer.alloc(d * 4);
    await h.read(buf, 0, d * 4, 128 + (r % 1_000_000) * d * 4);
    q.set(new Float32Array(buf.buffer, buf.byteOffset, d), j * d);
  }
  for (const h of fh.values()) await h.close();
  const progress = new native.ScaleProgress();
  const exact = await withProgress(progress, native.seedEdgesNative(store, q, dmax + 1, undefined, undefined, progress));
  const ell = await fsp.open(path.join(graphDir, 'knn.ids'), 'r');
  let hit = 0;
  let total = 0;
  for (const [j, r] of rows.entries()) {
    const buf = Buffer.alloc(dmax * 4);
    await ell.read(buf, 0, dmax * 4, r * dmax * 4);
    const got = new Set(new Uint32Array(buf.buffer, buf.byteOffset, dmax));
    const want = Array.from(exact.ids.subarray(exact.offsets[j], exact.offsets[j + 1])).filter((x) => x !== r).slice(0, dmax);
    total += want.length;
    for (const x of want) if (got.has(x)) hit++;
  }
  await ell.close();
  return hit / total;
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const header = '| rows | lists | graph build s (k-means / assign / search / symmetrise) | seed edges s | propagate s/round | rounds | peak RSS GiB | graph recall@20 | mining recall | queries |';
  const rowsOut: { n: number; build: number; prop: number; rss: number; graphBytes: number }[] = [];
  for (const n of sizes) {
    const dataDir = path.join(root, `data-${n}`);
    if (!existsSync(path.join(dataDir, 'truth.npy'))) {
      const t = performance.now();
      process.stderr.write(`writing the planted corpus of ${n} rows into ${dataDir} ...\n`);
      await writePlantedCorpus(dataDir, { rows: n, dim: 384, shardRows: 1_000_000, positiveRate: 0.001, seeds: 50, seed: 1 });
      process.stderr.write(`  ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    }
    const shards = (await fsp.readdir(dataDir)).filter((f) => /^corpus-\d+\.npy$/.test(f)).sort().map((f) => path.join(dataDir, f));
    const out = path.join(root, `run-${n}`);
    const work = path.join(root, `work-${n}`);
    await fsp.rm(work, { recursive: true, force: true });
    const code = await runCli([
      'mine-large', '--vectors', ...shards, '--seeds', path.join(dataDir, 'seeds.npy'), '--truth', path.join(dataDir, 'truth.npy'),
      '--out', out, '--force', '--work-dir', work, '--memory-limit', memoryLimit, '--probes', probes, '--dmax', String(dmax),
      '--k0', k0, '--max-queries', maxQueries, '--progress',
    ]);
    if (code !== 0) throw new Error(`mine-large exited with ${code} at ${n} rows`);
    const run = JSON.parse(await fsp.readFile(path.join(out, 'run.json'), 'utf8')) as RunJson;
    const metrics = (await fsp.readFile(path.join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
    const cols = metrics[0].split(',');
    const last = metrics[metrics.length - 1].split(',');
    const recall = Number(last[cols.indexOf('recall')]);
    const queried = Number(last[cols.indexOf('queried')]);
    const gr = await graphRecall(shards, path.join(work, `graph-d${dmax}-t0`), n);
    const s = run.graph.seconds;
    const build = s.reduce((a, b) => a + b, 0);
    const rss = run.peakRssBytes / 2 ** 30;
    rowsOut.push({ n, build, prop: run.timings.propagatePerRound, rss, graphBytes: run.graph.edges * 4 + n * dmax * 4 + (n + 1) * 8 });
    lines.push(
      `| ${n.toLocaleString('en-US')} | ${run.graph.lists} | ${build.toFixed(0)} (${s.map((x) => x.toFixed(0)).join(' / ')}) | ${run.timings.seedEdges.toFixed(1)} | ${run.timings.propagatePerRound.toFixed(2)} | ${metrics.length - 1} | ${rss.toFixed(2)} | ${gr.toFixed(3)} | ${recall.toFixed(3)} | ${queried} |`,
    );
    process.stdout.write(`${[header, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...lines].join('\n')}\n`);
  }
  const big = rowsOut[rowsOut.length - 1];
  const f = 100_000_000 / big.n;
  process.stdout.write(
    `\nExtrapolated to 100,000,000 rows from ${big.n.toLocaleString('en-US')} (every stage is linear in rows at a fixed list size): ` +
      `graph build ≈ ${((big.build * f) / 3600).toFixed(1)} h, propagation ≈ ${(big.prop * f).toFixed(0)} s a round on this machine; ` +
      `disk ≈ ${((100e6 * 384 * 4) / 1e9).toFixed(0)} GB of vectors + ≈ ${((big.graphBytes * f) / 1e9).toFixed(0)} GB of graph; ` +
      `memory ≈ ${(100e6 * 30 / 2 ** 30).toFixed(1)} GiB of per-row arrays + the mapped-page budget.\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
