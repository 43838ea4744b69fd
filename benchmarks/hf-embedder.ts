/**
 * Throughput of the local Hugging Face embedder (all-MiniLM-L6-v2 from scripts/fetch-minilm.sh)
 * on 2,000 SST-2 sentences: sentences/s, median of 3 timed runs after a warm-up.
 *
 *   bash scripts/fetch-minilm.sh
 *   node --import tsx benchmarks/hf-embedder.ts [model dir] [tsv] [n] [batchSize]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHfEmbedder } from '../src/embed/hf';

async function main(): Promise<void> {
  const [dirArg, tsvArg, nArg, batchArg] = process.argv.slice(2);
  const dir = dirArg ?? resolve(__dirname, '../.cache/models/all-MiniLM-L6-v2');
  const tsv = tsvArg ?? process.env.SST2_TSV ?? '/work/shared/data/sst2/train.tsv';
  const n = Number(nArg ?? 2000);
  const batchSize = Number(batchArg ?? 16);
  const texts = readFileSync(tsv, 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0].trim())
    .filter((s) => s !== '')
    .slice(0, n);
  const t0 = performance.now();
  const e = await createHfEmbedder(dir, { batchSize });
  const loadMs = performance.now() - t0;
  await e.embed(texts.slice(0, 64));
  const rates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await e.embed(texts);
    rates.push(texts.length / ((performance.now() - t) / 1000));
  }
  rates.sort((a, b) => a - b);
  const result = {
    model: e.modelId,
    texts: texts.length,
    source: tsv,
    batchSize,
    loadMs: Math.round(loadMs),
    sentencesPerSecond: Math.round(rates[1]),
    runs: rates.map(Math.round),
  };
  console.log(JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
