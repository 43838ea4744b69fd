/**
 * `synapse-g mine-large`: GBLE on a corpus of embedded shards too big for memory. The vectors
 * stay memory-mapped; the kNN graph is built block by block into --work-dir (a killed build
 * resumes there); --memory-limit bounds the resident set. Writes metrics.csv, labeled.csv and
 * run.json into --out, all at once.
 */
import { Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import * as path from 'node:path';
import { readVectors } from '../io/vectors';
import { writeCsv } from '../io/table';
import { createTruthOracle, mineLarge, openShards, readTruthNpy } from '../scale/mine-large';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic';
import { createProgressBar, type ProgressBar } from '../util/progress';
import { numberFlag, positiveIntFlag } from './flags';
import { formatMetricsTable, writeMetricsCsv } from './outputs';

/** Parse a size such as `12G`, `800M`, `1.5GiB` or a plain number of bytes. */
export function parseSize(flag: string): (value: string) => number {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value);
    if (!m) throw new CommanderArgumentError(`${flag} must be a size like 12G, 800M or a number of bytes, got ${JSON.stringify(value)}`);
    const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
    const bytes = Math.floor(Number(m[1]) * scale);
    if (!(bytes > 0)) throw new CommanderArgumentError(`${flag} must be positive, got ${JSON.stringify(value)}`);
    return bytes;
  };
}

interface MineLargeFlags {
  vectors: string[];
  dim?: number;
  seeds: string;
  truth: string;
  workDir?: string;
  memoryLimit?: number;
  tau: number;
  dmax?: number;
  k0?: number;
  iterations?: number;
  negativeLabel?: number;
  lists?: number;
  probes?: number;
  rounds?: number;
  maxQueries?: number;
  maxQueryRatio?: number;
  out: string;
  force?: boolean;
  quiet?: boolean;
  progress?: boolean;
}

/** Stage bars: a new bar whenever the native stage changes. */
function stageBars(stream: NodeJS.WriteStream, force: boolean): { update: (stage: string, done: number, total: number) => void; stop: () => void } {
  let current = '';
  let bar: ProgressBar | undefined;
  return {
    update(stage, done, total) {
      if (stage !== current) {
        bar?.stop();
        current = stage;
        bar = createProgressBar(total, { label: stage, unit: /propagate|k-means/.test(stage) ? 'steps' : 'rows', stream, force });
      }
      bar?.update(done, total);
    },
    stop() {
      bar?.stop();
      bar = undefined;
      current = '';
    },
  };
}

async function runMineLarge(flags: MineLargeFlags): Promise<void> {
  const say = (m: string) => {
    if (!flags.quiet) process.stderr.write(`${m}\n`);
  };
  const store = openShards(flags.vectors, flags.dim);
  const seeds = await readVectors(flags.seeds, { flag: '--seeds', dim: store.dim });
  const truth = await readTruthNpy(flags.truth);
  const oracle = createTruthOracle(truth, store.rows);
  const workDir = flags.workDir ?? `${path.resolve(flags.out)}.work`;
  say(`mine-large: ${store.rows.toLocaleString('en-US')} rows × ${store.dim} in ${flags.vectors.length} shard(s), ${seeds.rows} seeds; graph in ${workDir}`);
  const bars = stageBars(process.stderr, Boolean(flags.progress));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let result;
  try {
    result = await mineLarge({
      vectors: flags.vectors,
      dim: flags.dim,
      seeds,
      oracle,
      workDir,
      tau: flags.tau,
      dmax: flags.dmax,
      k0: flags.k0,
      iterations: flags.iterations,
      negativeLabel: flags.negativeLabel,
      lists: flags.lists,
      probes: flags.probes,
      memoryLimit: flags.memoryLimit,
      rounds: flags.rounds,
      maxQueries: flags.maxQueries,
      maxQueryRatio: flags.maxQueryRatio,
      onProgress: (s, d, t) => bars.update(s, d, t),
      onRound: () => bars.stop(),
      signal: controller.signal,
    });
  } finally {
    bars.stop();
    process.removeListener('SIGINT', onSigint);
  }
  const r = result;
  await writeDirAtomic(
    flags.out,
    async (dir) => {
      await writeMetricsCsv(path.join(dir, 'metrics.csv'), r.metrics);
      await writeCsv(
        path.join(dir, 'labeled.csv'),
        ['row', 'label', 'round'],
        r.labeled.map((l) => [l.row, l.label ? 'positive' : 'negative', l.round]),
      );
      const run = {
        command: 'mine-large',
        rows: r.rows,
        shards: flags.vectors.map((v) => path.resolve(v)),
        workDir: path.resolve(workDir),
        params: { tau: flags.tau, dmax: flags.dmax, k0: flags.k0, iterations: flags.iterations, lists: flags.lists, probes: flags.probes, memoryLimit: flags.memoryLimit },
        graph: r.graph,
        timings: r.timings,
        peakRssBytes: r.peakRssBytes,
        stopReason: r.stopReason,
      };
      await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
    },
    { replace: flags.force, flag: '--out' },
  );
  say(
    `graph: ${r.graph.lists} lists, ${r.graph.edges.toLocaleString('en-US')} edges, ${r.graph.isolated} isolated rows; ` +
      `built in ${r.timings.graph.toFixed(1)} s${r.graph.resumedBlocks ? ` (resumed: ${r.graph.resumedBlocks} blocks already on disk)` : ''}; ` +
      `seed edges ${r.timings.seedEdges.toFixed(1)} s; propagation ${r.timings.propagatePerRound.toFixed(2)} s a round; peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB`,
  );
  say(`stopped: ${r.stopReason}`);
  process.stdout.write(`${formatMetricsTable(r.metrics)}\n\nout: ${path.resolve(flags.out)}\n`);
}

/** Register `mine-large` on `program`. */
export function registerMineLarge(program: Command): void {
  program
    .command('mine-large')
    .description('GBLE on a corpus too big for memory: memory-mapped vector shards, an IVF kNN graph built on disk (resumable), streaming propagation, a ground-truth oracle.')
    .requiredOption('--vectors <files...>', 'corpus vector shards in row order: .npy (float32, rows × dim) or raw little-endian .f32 (with --dim)')
    .requiredOption('--seeds <file>', 'seed vectors (.npy, .f32 with --dim, or .jsonl), embedded like the corpus')
    .requiredOption('--truth <file>', 'ground-truth column, the oracle: 1-D .npy of uint8/bool (non-zero = positive), one per corpus row')
    .requiredOption('--out <dir>', 'output folder (written all at once): metrics.csv, labeled.csv, run.json')
    .option('--dim <n>', 'columns of raw .f32 shards', positiveIntFlag('--dim'))
    .option('--work-dir <dir>', 'where the graph is built and kept; rerun with the same one to resume or reuse it (default: <out>.work)')
    .option('--memory-limit <size>', 'bound on resident memory, e.g. 12G (work and mapped pages are sized to fit)', parseSize('--memory-limit'))
    .option('--tau <t>', 'similarity threshold τ of the graph', numberFlag('--tau', -1, 1), 0)
    .option('--dmax <n>', 'neighbours per row d_max', positiveIntFlag('--dmax'))
    .option('--k0 <n>', 'target positives a round (K = K0 / p_prev)', positiveIntFlag('--k0'))
    .option('--iterations <n>', 'propagation steps a round', positiveIntFlag('--iterations'))
    .option('--negative-label <v>', 'value negatives are clamped to, in [-1, 0]', numberFlag('--negative-label', -1, 0))
    .option('--lists <n>', 'inverted lists of the graph (default: rows / 256)', positiveIntFlag('--lists'))
    .option('--probes <n>', 'lists each list is compared with, its own included (more: closer to exact, slower)', positiveIntFlag('--probes'))
    .option('--rounds <n>', 'stop after N rounds', positiveIntFlag('--rounds'))
    .option('--max-query-ratio <r>', 'stop once this share of the corpus is queried (default 0.1 when no stop flag is given)', numberFlag('--max-query-ratio', 0, 1, true))
    .option('--max-queries <n>', 'stop once N rows are queried', positiveIntFlag('--max-queries'))
    .option('--force', 'replace --out if it exists')
    .option('--quiet', 'no stage messages on stderr')
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .action(async (flags: MineLargeFlags) => {
      await runMineLarge(flags);
    });
}
