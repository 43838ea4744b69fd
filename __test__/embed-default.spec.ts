import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@tensorflow-models/universal-sentence-encoder';
import * as ort from 'onnxruntime-node';
import { createDefaultEmbedder } from '../src/embed/default';
import type { Embedder } from '../src/embed/embedder';
import { InvalidArgumentError } from '../src/errors';
import { convertTfGraph } from '../src/embed/use-lite/convert';
import { encodeOnnxModel } from '../src/embed/use-lite/onnx-proto';
import type { TfConstant, TfNode } from '../src/embed/use-lite/tf-graph';
import { loadVocabulary, onnxCachePath, useLiteFiles } from '../src/embed/use-lite/model';
import { SentencePieceTokenizer } from '../src/embed/use-lite/tokenizer';

interface Reference {
  howMade: string;
  sentences: string[];
  tokenIds: number[][];
  vectors: number[][];
}

const reference = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'use-lite', 'reference.json'), 'utf8'),
) as Reference;
const SST2_TRAIN = '/work/shared/data/sst2/train.tsv';

const cacheRoot = mkdtempSync(join(tmpdir(), 'synapse-g-use-lite-'));
let shared: Embedder;

test.before(async () => {
  shared = await createDefaultEmbedder({ cacheDir: cacheRoot, onWarning: (m) => { throw new Error(m); } });
});

test.after.always(async () => {
  await shared?.close?.();
  rmSync(cacheRoot, { recursive: true, force: true });
});

function dot(a: Float32Array, i: number, b: ArrayLike<number>, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[i * dim + k] * b[k];
  return s;
}

async function vocabTokenizer(): Promise<SentencePieceTokenizer> {
  return new SentencePieceTokenizer(await loadVocabulary(await useLiteFiles()));
}

test('tokenizer gives the TF.js tokenizer ids of the reference sentences', async (t) => {
  const tok = await vocabTokenizer();
  reference.sentences.forEach((s, i) => t.deepEqual(tok.encode(s), reference.tokenIds[i], s));
});

test('tokenizer agrees with @tensorflow-models/universal-sentence-encoder on SST-2 and odd text', async (t) => {
  const files = await useLiteFiles();
  const raw = JSON.parse(readFileSync(files.vocabJson, 'utf8')) as [string, number][];
  const official = new Tokenizer(raw);
  const ours = new SentencePieceTokenizer(await loadVocabulary(files));
  const texts = [
    'a', ' ', '  leading and trailing  ', 'tabs\tand\nnewlines', ':) :( ://', '😀😀😀', 'Ǆ ﬃ ①',
    'x'.repeat(300), '日本語のテキスト', 'e\u0301 café',
  ];
  if (existsSync(SST2_TRAIN)) {
    const lines = readFileSync(SST2_TRAIN, 'utf8').split('\n').slice(1, 1001);
    texts.push(...lines.map((l) => l.split('\t')[0]).filter((s) => s !== ''));
  }
  let same = 0;
  for (const s of texts) if (JSON.stringify(ours.encode(s)) === JSON.stringify(official.encode(s))) same++;
  t.is(same, texts.length);
});

test('tokenizer with maxTokens gives the first ids of the full encoding, fast on long text', async (t) => {
  const tok = await vocabTokenizer();
  const texts = [
    reference.sentences[18],
    'word  with   runs of spaces 😀😀 and ünïcödé ' .repeat(40),
    '😀 '.repeat(300),
    'x'.repeat(500) + ' tail',
  ];
  for (const s of texts) {
    for (const k of [1, 5, 128]) t.deepEqual(tok.encode(s, k), tok.encode(s).slice(0, k));
  }
  const long = 'the quick brown fox jumps over the lazy dog . '.repeat(20000);
  t.is(tok.encode(long, 128).length, 128);
});

test('vectors match the TF.js reference (cosine >= 1 - 1e-4) and are unit length', async (t) => {
  t.is(shared.modelId, 'use-lite');
  t.is(shared.dim, 512);
  const v = await shared.embed(reference.sentences);
  t.is(v.length, reference.sentences.length * 512);
  reference.vectors.forEach((ref, i) => {
    const cos = dot(v, i, ref, 512);
    t.true(cos >= 1 - 1e-4, `sentence ${i}: cosine ${cos}`);
    t.true(Math.abs(Math.sqrt(dot(v, i, v.subarray(i * 512, (i + 1) * 512), 512)) - 1) < 1e-5);
  });
});

test('a text embeds the same alone, in any batch and at any batch size', async (t) => {
  const texts = reference.sentences;
  const all = await shared.embed(texts, { batchSize: 7 });
  for (const i of [0, 9, 18]) {
    const alone = await shared.embed([texts[i]]);
    let maxDiff = 0;
    for (let k = 0; k < 512; k++) maxDiff = Math.max(maxDiff, Math.abs(alone[k] - all[i * 512 + k]));
    t.true(maxDiff < 1e-5, `row ${i}: max difference ${maxDiff}`);
  }
  const reversed = await shared.embed([...texts].reverse(), { batchSize: 64 });
  const n = texts.length;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 512; k++) maxDiff = Math.max(maxDiff, Math.abs(reversed[(n - 1 - i) * 512 + k] - all[i * 512 + k]));
  }
  t.true(maxDiff < 1e-5, `max difference ${maxDiff}`);
});

test('onProgress counts up to the total, one call per batch', async (t) => {
  const seen: number[] = [];
  await shared.embed(reference.sentences.slice(0, 10), { batchSize: 4, onProgress: (p) => { t.is(p.total, 10); seen.push(p.done); } });
  t.deepEqual(seen, [4, 8, 10]);
});

test('empty input gives an empty matrix', async (t) => {
  t.is((await shared.embed([])).length, 0);
});

/** The rejection reason of `p` (DOMException is not an `Error` to ava's `throwsAsync`). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('the promise resolved');
}

test('abort: an aborted signal rejects with AbortError, also between batches', async (t) => {
  const before = new AbortController();
  before.abort();
  const e1 = (await rejection(shared.embed(['fine'], { signal: before.signal }))) as { name?: string };
  t.is(e1.name, 'AbortError');

  const mid = new AbortController();
  let calls = 0;
  const e2 = (await rejection(
    shared.embed(reference.sentences, {
      batchSize: 2,
      signal: mid.signal,
      onProgress: () => {
        calls++;
        mid.abort();
      },
    }),
  )) as { name?: string };
  t.is(e2.name, 'AbortError');
  t.is(calls, 1);
});

test('empty, whitespace-only and non-string texts name the row', async (t) => {
  const e1 = await t.throwsAsync(shared.embed(['ok', 'fine', ''], {}), { instanceOf: InvalidArgumentError });
  t.is(e1?.message, 'texts[2]: empty text');
  t.is((e1 as InvalidArgumentError).argument, 'texts[2]');
  const texts = reference.sentences.slice(0, 17).concat([' \t\n ']);
  const e2 = await t.throwsAsync(shared.embed(texts), { instanceOf: InvalidArgumentError });
  t.is(e2?.message, 'texts[17]: empty text');
  const e3 = await t.throwsAsync(shared.embed(['ok', 3 as unknown as string]), { instanceOf: InvalidArgumentError });
  t.regex(e3?.message ?? '', /^texts\[1\]: must be a string/);
  const e4 = await t.throwsAsync(shared.embed(['ok'], { batchSize: 0 }), { instanceOf: InvalidArgumentError });
  t.regex(e4?.message ?? '', /^batchSize: /);
});

test('bad options name the option', async (t) => {
  const e1 = await t.throwsAsync(createDefaultEmbedder({ threads: 1.5 }), { instanceOf: InvalidArgumentError });
  t.is((e1 as InvalidArgumentError).argument, 'threads');
  const e2 = await t.throwsAsync(createDefaultEmbedder({ cacheDir: ' ' }), { instanceOf: InvalidArgumentError });
  t.is((e2 as InvalidArgumentError).argument, 'cacheDir');
});

test('the converted model is cached, reused, and rebuilt when corrupt', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'synapse-g-use-lite-cache-'));
  try {
    const cached = onnxCachePath(root, await useLiteFiles());
    const a = await createDefaultEmbedder({ cacheDir: root, threads: 1 });
    t.true(statSync(cached).size > 20_000_000);
    const ref = await a.embed([reference.sentences[0]]);
    await a.close?.();
    const mtime = statSync(cached).mtimeMs;
    const b = await createDefaultEmbedder({ cacheDir: root, threads: 1 });
    await b.close?.();
    t.is(statSync(cached).mtimeMs, mtime);
    writeFileSync(cached, 'not an onnx model');
    const c = await createDefaultEmbedder({ cacheDir: root, threads: 1 });
    const again = await c.embed([reference.sentences[0]]);
    await c.close?.();
    t.deepEqual(Array.from(again), Array.from(ref));
    t.true(statSync(cached).size > 20_000_000);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unwritable cache folder only warns', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'synapse-g-use-lite-ro-'));
  try {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'x');
    const warnings: string[] = [];
    const e = await createDefaultEmbedder({ cacheDir: blocker, threads: 1, onWarning: (m) => warnings.push(m) });
    const v = await e.embed([reference.sentences[1]]);
    await e.close?.();
    t.is(warnings.length, 1);
    t.regex(warnings[0], /could not cache the converted model/);
    t.true(dot(v, 0, reference.vectors[1], 512) >= 1 - 1e-4);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a closed embedder refuses to embed', async (t) => {
  const e = await createDefaultEmbedder({ cacheDir: cacheRoot, threads: 1 });
  await e.close?.();
  await t.throwsAsync(e.embed(['hello']), { message: /closed/ });
});

// ---- the converter on a tiny hand-made graph ----------------------------------------------------

function int32(name: string, shape: number[], values: number[]): [string, TfConstant] {
  return [name, { dtype: 'int32', shape, values: Int32Array.from(values) }];
}

test('converter: StridedSlice masks, ScatterNd sums duplicates, SparseToDense, Where', async (t) => {
  const I32 = { type: 3 };
  const F32 = { type: 1 };
  const nodes: TfNode[] = [
    { name: 'x', op: 'Placeholder', attr: { dtype: F32, shape: { shape: { dim: [{ size: -1 }, { size: 4 }] } } } },
    { name: 'b', op: 'Const' }, { name: 'e', op: 'Const' }, { name: 's', op: 'Const' },
    // x[:, 1] (shrink axis 1, begin/end mask on axis 0)
    { name: 'col', op: 'StridedSlice', input: ['x', 'b', 'e', 's'], attr: { T: F32, begin_mask: { i: '1' }, end_mask: { i: '1' }, shrink_axis_mask: { i: '2' } } },
    { name: 'idx', op: 'Const' }, { name: 'shape', op: 'Const' },
    { name: 'sc', op: 'ScatterNd', input: ['idx', 'col', 'shape'], attr: { T: F32, Tindices: I32 } },
    { name: 'sp_idx', op: 'Const' }, { name: 'sp_shape', op: 'Const' }, { name: 'sp_val', op: 'Const' }, { name: 'sp_def', op: 'Const' },
    { name: 'dense', op: 'SparseToDense', input: ['sp_idx', 'sp_shape', 'sp_val', 'sp_def'], attr: { T: I32, Tindices: I32 } },
    { name: 'gt', op: 'Greater', input: ['dense', 'sp_def'], attr: { T: I32 } },
    { name: 'where', op: 'Where', input: ['gt'], attr: { T: { type: 10 } } },
  ];
  const constants = new Map<string, TfConstant>([
    int32('b', [2], [0, 1]), int32('e', [2], [0, 2]), int32('s', [2], [1, 1]),
    int32('idx', [3, 1], [2, 0, 2]), int32('shape', [1], [4]),
    int32('sp_idx', [3, 2], [0, 0, 0, 2, 1, 1]), int32('sp_shape', [2], [2, 3]), int32('sp_val', [3], [5, 0, 7]),
    int32('sp_def', [], [-1]),
  ]);
  const model = convertTfGraph({ nodes, constants }, { producerVersion: 'test', outputs: ['sc', 'dense', 'where'] });
  const session = await ort.InferenceSession.create(encodeOnnxModel(model));
  const x = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
  const out = await session.run({ x: new ort.Tensor('float32', x, [3, 4]) });
  // col = [1, 11, 21]; scatter to rows [2, 0, 2] of zeros(4): [11, 0, 1 + 21, 0].
  t.deepEqual(Array.from(out.sc.data as Float32Array), [11, 0, 22, 0]);
  t.deepEqual(Array.from(out.dense.data as BigInt64Array, Number), [5, -1, 0, -1, 7, -1]);
  t.deepEqual(Array.from(out.where.data as BigInt64Array, Number), [0, 0, 0, 2, 1, 1]);
  t.deepEqual(out.where.dims, [3, 2]);
  await session.release();
});

test('converter: unsupported ops are named in the error', (t) => {
  const nodes: TfNode[] = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 1 }, shape: { shape: { dim: [{ size: 2 }] } } } },
    { name: 'y', op: 'Erfinv', input: ['x'] },
  ];
  t.throws(() => convertTfGraph({ nodes, constants: new Map() }, { producerVersion: 'test' }), {
    message: /Erfinv y: TensorFlow op Erfinv is not supported/,
  });
});
