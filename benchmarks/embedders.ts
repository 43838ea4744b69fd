/**
 * Sentences per second of each embedder on SST-2 sentences.
 *
 *   node --import tsx benchmarks/embedders.ts [--n 2000] [--reps 3] [--batch N] [--threads N]
 *                                             [--only SUBSTRING] [--data path/to/sst2/train.tsv]
 *
 * Each embedder is created once (its creation time is reported apart: model conversion or
 * loading), warmed up on 64 sentences, then embeds the first `n` sentences of SST-2 train `reps`
 * times; the median is reported. Add an embedder by adding an entry to `EMBEDDERS`.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createDefaultEmbedder } from '../src/embed/default';
import type { Embedder } from '../src/embed/embedder';

interface Args {
  n: number;
  reps: number;
  batch: number | undefined;
  threads: number | undefined;
  only: string | undefined;
  data: string;
}

/** An embedder under test. */
interface BenchEmbedder {
  name: string;
  create: (args: Args) => Promise<Embedder>;
}

const EMBEDDERS: BenchEmbedder[] = [
  {
    name: 'use-lite (default, onnxruntime-node)',
    create: (a) =>
      createDefaultEmbedder({
        ...(a.threads !== undefined ? { threads: a.threads } : {}),
        ...(a.batch !== undefined ? { batchSize: a.batch } : {}),
      }),
  },
];

function parseArgs(argv: string[]): Args {
  const args: Args = { n: 2000, reps: 3, batch: undefined, threads: undefined, only: undefined, data: '/work/shared/data/sst2/train.tsv' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    const int = (): number => {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag}: must be a positive integer, got ${value}`);
      return v;
    };
    if (flag === '--n') args.n = int();
    else if (flag === '--reps') args.reps = int();
    else if (flag === '--batch') args.batch = int();
    else if (flag === '--threads') args.threads = int();
    else if (flag === '--only') args.only = value;
    else if (flag === '--data') args.data = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sentences = readFileSync(args.data, 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0])
    .filter((s) => s.trim() !== '')
    .slice(0, args.n);
  const words = sentences.reduce((a, s) => a + s.split(' ').length, 0) / sentences.length;
  console.log(
    `${sentences.length} SST-2 sentences (mean ${words.toFixed(1)} words) from ${args.data}; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  );
  for (const b of EMBEDDERS) {
    if (args.only && !b.name.includes(args.only)) continue;
    const t0 = performance.now();
    const embedder = await b.create(args);
    const createS = (performance.now() - t0) / 1000;
    await embedder.embed(sentences.slice(0, 64));
    const times: number[] = [];
    for (let r = 0; r < args.reps; r++) {
      const t = performance.now();
      await embedder.embed(sentences);
      times.push((performance.now() - t) / 1000);
    }
    await embedder.close?.();
    const m = median(times);
    console.log(
      `${b.name}: ${(sentences.length / m).toFixed(0)} sentences/s ` +
        `(median of ${times.map((x) => x.toFixed(2)).join(', ')} s; created in ${createS.toFixed(2)} s)`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
