/**
 * Child process: run one case through the public TypeScript API and print one JSON line
 * `{ times, rss_mb, base_rss_mb, edges }` on stdout. Run by run.ts, one process per case, so
 * the peak RSS is this case's alone.
 *
 *   node --import tsx benchmarks/ours.ts <case index> [--quick]
 */
import { bipartiteTopK, knnGraph, matrix, propagate } from '../src/index';
import { cases } from './cases';
import { loadF32, loadU32, loadU8 } from './data';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const idx = Number(process.argv[2]);
  const quick = process.argv.includes('--quick');
  const c = cases(quick)[idx];
  if (c === undefined) throw new Error(`no case ${process.argv[2]}`);
  const p = c.params;
  let run: () => Promise<number>;
  if (c.kind === 'bipartite') {
    const dim = p.dim ?? 0;
    const corpus = matrix(loadF32(p.files.corpus), dim, 'corpus');
    const queries = matrix(loadF32(p.files.queries), dim, 'queries');
    run = async () =>
      (await bipartiteTopK(queries, corpus, { k: p.k ?? 50, threshold: p.threshold })).ids.length;
  } else if (c.kind === 'knn') {
    const corpus = matrix(loadF32(p.files.corpus), p.dim ?? 0, 'corpus');
    run = async () => (await knnGraph(corpus, { k: p.k ?? 50, threshold: p.threshold })).ids.length;
  } else {
    const graph = { offsets: loadU32(p.files.offsets), ids: loadU32(p.files.ids) };
    const y0 = loadF32(p.files.y0);
    const clamp = loadU8(p.files.clamp);
    run = async () => {
      const y = await propagate(graph, y0, clamp, { iterations: p.iterations ?? 20 });
      let pos = 0;
      for (let i = 0; i < y.length; i++) if (y[i] > 0) pos++;
      return pos;
    };
  }
  const baseRss = process.memoryUsage().rss;
  let edges = 0;
  for (let w = 0; w < c.warmup; w++) edges = await run();
  const times: number[] = [];
  for (let r = 0; r < c.reps; r++) {
    const t0 = process.hrtime.bigint();
    edges = await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ times, median_s: median(times), rss_mb: rssMb, base_rss_mb: baseRss / 2 ** 20, edges })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
