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
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHfEmbedder } from '../src/embed/hf';
import { knnGraph, matrix } from '../src/kernels';
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

const MINILM = join(__dirname, '..', '.cache', 'models', 'all-MiniLM-L6-v2');

const EMBEDDERS: BenchEmbedder[] = [
  {
    name: 'use-lite (default, onnxruntime-node)',
    create: (a) =>
      createDefaultEmbedder({
        ...(a.threads !== undefined ? { threads: a.threads } : {}),
        ...(a.batch !== undefined ? { batchSize: a.batch } : {}),
      }),
  },
  {
    name: 'hf:all-MiniLM-L6-v2 (Rust, candle + tokenizers)',
    create: (a) => createHfEmbedder(MINILM, a.batch !== undefined ? { batchSize: a.batch } : {}),
  },
];

/** Share of each dev sentence's 10 nearest dev neighbours (cosine) that share its label. */
async function knnAgreement(embedder: Embedder, texts: string[], labels: boolean[]): Promise<number> {
  const v = matrix(await embedder.embed(texts), embedder.dim);
  const g = await knnGraph(v, { k: 10 });
  let agree = 0;
  for (let i = 0; i < v.rows; i++) for (let e = g.offsets[i]; e < g.offsets[i + 1]; e++) if (labels[g.ids[e]] === labels[i]) agree++;
  return agree / g.ids.length;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { n: 2000, reps: 3, batch: undefined, threads: undefined, only: undefined, data: join(__dirname, '..', '..', 'shared', 'data', 'sst2', 'train.tsv') };
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
  const dev = readFileSync(join(dirname(args.data), 'dev.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const devTexts = dev.map((l) => l.slice(0, l.lastIndexOf('\t')).trim());
  const devLabels = dev.map((l) => l.slice(l.lastIndexOf('\t') + 1).trim() === '1');
  const table: string[] = ['| embedder | dim | sentences/s | 10-NN label agreement (SST-2 dev) |', '|---|---|---|---|'];
  for (const b of EMBEDDERS) {
    if (args.only && !b.name.includes(args.only)) continue;
    if (b.name.startsWith('hf:') && !existsSync(join(MINILM, 'config.json'))) {
      console.log(`${b.name}: skipped (run bash scripts/fetch-minilm.sh)`);
      continue;
    }
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
    const agreement = await knnAgreement(embedder, devTexts, devLabels);
    await embedder.close?.();
    const m = median(times);
    table.push(`| ${b.name} | ${embedder.dim} | ${(sentences.length / m).toFixed(0)} | ${agreement.toFixed(3)} |`);
    console.log(
      `${b.name}: ${(sentences.length / m).toFixed(0)} sentences/s ` +
        `(median of ${times.map((x) => x.toFixed(2)).join(', ')} s; created in ${createS.toFixed(2)} s)`,
    );
  }
  console.log(`\n${table.join('\n')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
