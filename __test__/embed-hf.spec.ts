/**
 * The local Hugging Face embedder against sentence-transformers' own vectors for
 * all-MiniLM-L6-v2 (fixtures/minilm-reference.json, made by scripts/make-minilm-reference.py).
 * Needs the folder from `bash scripts/fetch-minilm.sh` (CI runs it first); without it the
 * model tests are skipped with a message. Folder-validation tests always run.
 */
import test, { type ExecutionContext } from 'ava';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHfEmbedder, InvalidArgumentError } from '../src/index';

const MODEL_DIR = process.env.SYNAPSE_MINILM_DIR ?? resolve(__dirname, '../.cache/models/all-MiniLM-L6-v2');
const HAVE_MODEL = existsSync(join(MODEL_DIR, 'model.safetensors'));

interface Reference {
  how: string;
  dim: number;
  sentences: string[];
  vectors: number[][];
}
const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures/minilm-reference.json'), 'utf8')) as Reference;

function cosine(a: Float32Array, b: readonly number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < b.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

function modelTest(title: string, fn: (t: ExecutionContext) => Promise<void>): void {
  if (HAVE_MODEL) {
    test(title, fn);
  } else {
    test(title, (t) => {
      t.log(`SKIPPED: no model folder at ${MODEL_DIR}; run \`bash scripts/fetch-minilm.sh\``);
      t.pass();
    });
  }
}

modelTest('matches sentence-transformers (cosine >= 0.9999 for every sentence)', async (t) => {
  const e = await createHfEmbedder(MODEL_DIR, { batchSize: 8 });
  t.is(e.modelId, 'hf:all-MiniLM-L6-v2');
  t.is(e.dim, ref.dim);
  const v = await e.embed(ref.sentences);
  t.is(v.length, ref.sentences.length * e.dim);
  ref.vectors.forEach((want, i) => {
    const row = v.subarray(i * e.dim, (i + 1) * e.dim);
    const c = cosine(row, want);
    t.true(c >= 0.9999, `sentence ${i}: cosine ${c}`);
    let n = 0;
    for (const x of row) n += x * x;
    t.true(Math.abs(Math.sqrt(n) - 1) < 1e-4, `row ${i} is not unit length`);
  });
});

modelTest('batching invariance: batch size and call grouping do not change vectors', async (t) => {
  const e = await createHfEmbedder(MODEL_DIR, { threads: 2 });
  const all = await e.embed(ref.sentences, { batchSize: 32 });
  const one = await e.embed(ref.sentences, { batchSize: 1 });
  const odd = await e.embed(ref.sentences, { batchSize: 3 });
  for (const other of [one, odd]) {
    for (let i = 0; i < ref.sentences.length; i++) {
      const a = all.subarray(i * e.dim, (i + 1) * e.dim);
      const b = Array.from(other.subarray(i * e.dim, (i + 1) * e.dim));
      t.true(cosine(a, b) > 0.99999, `sentence ${i}`);
    }
  }
  // A sentence alone gives the same vector as inside a batch.
  const single = await e.embed([ref.sentences[5]]);
  t.true(cosine(single, Array.from(all.subarray(5 * e.dim, 6 * e.dim))) > 0.99999);
});

modelTest('progress is reported and an aborted signal rejects', async (t) => {
  const e = await createHfEmbedder(MODEL_DIR);
  const seen: number[] = [];
  await e.embed(ref.sentences, { onProgress: (p) => seen.push(p.done) });
  t.deepEqual(seen.at(-1), ref.sentences.length);
  const ctrl = new AbortController();
  ctrl.abort();
  const reason = await e.embed(ref.sentences, { signal: ctrl.signal }).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.is((reason as { name?: string } | undefined)?.name, 'AbortError');
});

modelTest('empty text is an error naming the row', async (t) => {
  const e = await createHfEmbedder(MODEL_DIR);
  const err = await t.throwsAsync(e.embed(['a fine film', 'fine', '   ']), { instanceOf: InvalidArgumentError });
  t.is(err?.argument, 'texts[2]');
});

test('a folder missing tokenizer.json is an error naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'synapse-hf-'));
  try {
    if (HAVE_MODEL) {
      for (const f of ['config.json', 'modules.json', 'model.safetensors']) cpSync(join(MODEL_DIR, f), join(dir, f));
    } else {
      cpSync(join(__dirname, 'fixtures/minilm-reference.json'), join(dir, 'config.json'));
      cpSync(join(__dirname, 'fixtures/minilm-reference.json'), join(dir, 'model.safetensors'));
    }
    const err = await t.throwsAsync(createHfEmbedder(dir), { instanceOf: InvalidArgumentError });
    t.is(err?.argument, 'dir');
    t.regex(err?.message ?? '', /missing tokenizer\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a path that is not a folder is an error on dir', async (t) => {
  const err = await t.throwsAsync(createHfEmbedder(join(tmpdir(), 'no-such-model-folder-xyz')), {
    instanceOf: InvalidArgumentError,
  });
  t.is(err?.argument, 'dir');
});

modelTest('a native-side check also names the missing file (modules.json points at a missing pooling config)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'synapse-hf-'));
  try {
    for (const f of ['config.json', 'modules.json', 'tokenizer.json', 'model.safetensors']) {
      cpSync(join(MODEL_DIR, f), join(dir, f));
    }
    const err = await t.throwsAsync(createHfEmbedder(dir), { instanceOf: InvalidArgumentError });
    t.is(err?.argument, 'dir');
    t.regex(err?.message ?? '', /missing 1_Pooling\/config\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
