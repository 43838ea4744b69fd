import test from 'ava';
import { createWriteStream, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EMBEDDER_SPECS, resolveEmbedder, type CachedEmbedder } from '../src/embed/index';
import { skippedSidecarPath } from '../src/cli/embed';
import { runCli } from '../src/cli/main';
import { InvalidArgumentError, SynapseError } from '../src/errors';
import { createProgressBar } from '../src/util/progress';
import { runChild } from './helpers/cli';
import { expectedEmbedding, startOpenAIServer, type OpenAITestServer } from './helpers/openai-server';

async function tmpDir(t: import('ava').ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-cli-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

test('resolveEmbedder: openai:MODEL with and without the cache; unknown specs list the valid forms', async (t) => {
  const server = await startOpenAIServer({ dim: 4 });
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const openai = { baseUrl: server.baseUrl, apiKey: '' };
  const cached = (await resolveEmbedder('openai:my-model', { cacheDir: dir, openai, batchSize: 3 })) as CachedEmbedder;
  t.is(cached.modelId, 'openai:my-model');
  t.true(cached.cacheDir.startsWith(dir));
  await cached.embed(['a', 'b', 'c', 'd']);
  t.is(server.requests.length, 2, 'batchSize reached the embedder');
  await cached.embed(['a', 'b', 'c', 'd']);
  t.is(server.requests.length, 2, 'served from the cache');
  const plain = await resolveEmbedder('openai:my-model', { cacheDir: dir, noCache: true, openai });
  t.false('cacheDir' in plain);
  await plain.embed(['a']);
  t.is(server.requests.length, 3);

  for (const bad of ['', 'bert', 'openai:', 'hf:', 'OPENAI:x']) {
    const err = await t.throwsAsync(resolveEmbedder(bad, { argument: '--model' }), { instanceOf: InvalidArgumentError }, bad);
    t.is(err?.argument, '--model');
  }
  const err = await t.throwsAsync(resolveEmbedder('nope'));
  t.is((err as InvalidArgumentError).argument, 'embedder');
  for (const form of ['default', 'hf:DIR', 'openai:MODEL']) t.true(err!.message.includes(form), form);
  t.is(EMBEDDER_SPECS.length, 3);
  // hf: with a missing folder is a clean SynapseError mentioning the spec (never an internal error)
  const hf = await t.throwsAsync(resolveEmbedder('hf:/no/such/folder', { argument: '--model' }), { instanceOf: SynapseError });
  t.true(hf!.message.includes('hf'), hf!.message);
});

// ---- `synapse-g embed` end to end -------------------------------------------------------------


/** Parse a float32 C-order .npy written by the CLI. */
async function readNpy(file: string): Promise<{ shape: number[]; data: Float32Array }> {
  const buf = await fsp.readFile(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not npy');
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False")) throw new Error(header);
  if ((10 + hlen) % 64 !== 0) throw new Error('header not 64-aligned');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(10 + hlen);
  const data = new Float32Array(body.byteLength / 4);
  new Uint8Array(data.buffer).set(body);
  return { shape, data };
}

function expectRows(t: import('ava').ExecutionContext, data: Float32Array, texts: readonly string[], dim: number) {
  t.is(data.length, texts.length * dim);
  for (let i = 0; i < texts.length; i++) {
    const want = expectedEmbedding(texts[i], dim);
    const ok = want.every((w, c) => Math.abs(data[i * dim + c] - w) < 1e-6);
    t.true(ok, `row ${i} (${JSON.stringify(texts[i])})`);
  }
}

const cli = (...args: string[]) => runCli(['node', 'synapse-g', 'embed', ...args]);

let server: OpenAITestServer;
const savedEnv = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
test.before(async () => {
  server = await startOpenAIServer({ dim: 6 });
  process.env.OPENAI_BASE_URL = server.baseUrl;
  process.env.OPENAI_API_KEY = 'sk-cli-test';
});
test.after.always(async () => {
  await server?.close();
  if (savedEnv.base === undefined) delete process.env.OPENAI_BASE_URL;
  else process.env.OPENAI_BASE_URL = savedEnv.base;
  if (savedEnv.key === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = savedEnv.key;
});

test.serial('embed: CSV with BOM, CRLF, quotes and embedded newlines → .npy; the second run embeds nothing', async (t) => {
  const dir = await tmpDir(t);
  const csv = path.join(dir, 'in.csv');
  await fsp.writeFile(csv, '\uFEFFid,text,label\r\n1,"hello, ""world""",0\r\n2,"multi\r\nline text",1\r\n3,plain,0\r\n4,"  padded  ",1\r\n');
  const out = path.join(dir, 'vec.npy');
  const cache = path.join(dir, 'cache');
  const before = server.embeddedInputs;
  t.is(await cli('--input', csv, '--text-column', 'text', '--model', 'openai:m', '--out', out, '--cache-dir', cache, '--batch-size', '3'), 0);
  const want = ['hello, "world"', 'multi\r\nline text', 'plain', '  padded  '];
  const { shape, data } = await readNpy(out);
  t.deepEqual(shape, [4, 6]);
  expectRows(t, data, want, 6);
  t.is(server.embeddedInputs - before, 4);
  const last = server.requests.slice(-2).map((r) => (r.body as { input: string[] }).input.length).sort();
  t.deepEqual(last, [1, 3], '--batch-size reached the API');
  t.is(server.requests[server.requests.length - 1].headers.authorization, 'Bearer sk-cli-test');
  const first = await fsp.readFile(out);

  t.is(await cli('--input', csv, '--text-column', 'text', '--model', 'openai:m', '--out', out, '--cache-dir', cache), 0);
  t.is(server.embeddedInputs - before, 4, 'second run: all from the cache');
  t.deepEqual(await fsp.readFile(out), first);

  t.is(await cli('--input', csv, '--text-column', 'text', '--model', 'openai:m', '--out', out, '--cache-dir', cache, '--no-cache'), 0);
  t.is(server.embeddedInputs - before, 8, '--no-cache embeds again');
  t.deepEqual((await fsp.readdir(dir)).sort(), ['cache', 'in.csv', 'vec.npy'], 'no temp or sidecar files left');
});

test.serial('embed: TSV, JSONL and TXT inputs', async (t) => {
  const dir = await tmpDir(t);
  const cache = ['--cache-dir', path.join(dir, 'cache'), '--model', 'openai:m'];
  const tsv = path.join(dir, 'in.tsv');
  await fsp.writeFile(tsv, 'sentence\tlabel\nit is "great"\t1\na, b, c\t0\n');
  t.is(await cli('--input', tsv, '--text-column', 'sentence', '--out', path.join(dir, 'a.npy'), ...cache), 0);
  expectRows(t, (await readNpy(path.join(dir, 'a.npy'))).data, ['it is "great"', 'a, b, c'], 6);

  const jsonl = path.join(dir, 'in.jsonl');
  await fsp.writeFile(jsonl, '{"t": "first\\nline", "id": 7}\r\n\r\n{"t": "second", "id": 8}\n');
  t.is(await cli('--input', jsonl, '--text-column', 't', '--out', path.join(dir, 'b.npy'), ...cache), 0);
  const b = await readNpy(path.join(dir, 'b.npy'));
  t.deepEqual(b.shape, [2, 6]);
  expectRows(t, b.data, ['first\nline', 'second'], 6);

  const txt = path.join(dir, 'in.txt');
  await fsp.writeFile(txt, 'one\r\ntwo\nthree\n');
  t.is(await cli('--input', txt, '--out', path.join(dir, 'c.npy'), ...cache), 0);
  expectRows(t, (await readNpy(path.join(dir, 'c.npy'))).data, ['one', 'two', 'three'], 6);
});

test.serial('embed: bad input and flags fail without writing anything', async (t) => {
  const dir = await tmpDir(t);
  const csv = path.join(dir, 'in.csv');
  await fsp.writeFile(csv, 'id,text\n1,fine\n2,"   "\n3,also fine\n');
  const out = path.join(dir, 'out.npy');
  const common = ['--model', 'openai:m', '--cache-dir', path.join(dir, 'cache')];
  t.is(await cli('--input', csv, '--text-column', 'text', '--out', out, ...common), 1, 'whitespace-only text');
  t.is(await cli('--input', csv, '--text-column', 'nope', '--out', out, ...common), 1, 'unknown column');
  t.is(await cli('--input', path.join(dir, 'missing.csv'), '--text-column', 'text', '--out', out, ...common), 1);
  t.is(await cli('--input', csv, '--text-column', 'text', '--out', path.join(dir, 'out.bin'), '--skip-empty', ...common), 1);
  t.is(await cli('--input', csv, '--text-column', 'text', '--out', out, '--skip-empty', '--model', 'word2vec'), 1);
  t.is(await cli('--input', csv, '--text-column', 'text', '--out', out, '--batch-size', '0', ...common), 2);
  t.is(await cli('--input', csv, '--text-column', 'text', ...common), 2, 'missing --out');
  const bad = path.join(dir, 'bad.jsonl');
  await fsp.writeFile(bad, '{"text": "ok"}\n{"text": \n');
  t.is(await cli('--input', bad, '--text-column', 'text', '--out', out, ...common), 1, 'broken JSON line');
  t.deepEqual((await fsp.readdir(dir)).sort(), ['bad.jsonl', 'in.csv']);

  // A failing API leaves an existing output untouched.
  await fsp.writeFile(out, 'previous');
  server.faults.push({ status: 400, body: { error: { message: 'model not found' } } });
  t.is(await cli('--input', csv, '--text-column', 'text', '--out', out, '--skip-empty', ...common, '--no-cache'), 1);
  t.is(await fsp.readFile(out, 'utf8'), 'previous');
  t.deepEqual((await fsp.readdir(dir)).sort(), ['bad.jsonl', 'in.csv', 'out.npy']);
});

test.serial('embed (child process): names the empty row; --skip-empty reports ids; --progress draws rows/s and ETA', async (t) => {
  const dir = await tmpDir(t);
  const csv = path.join(dir, 'in.csv');
  await fsp.writeFile(csv, 'id,text\na1,fine\na2,\na3,also fine\na4," \t "\n');
  const out = path.join(dir, 'out.npy');
  const env = { OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: '', SYNAPSE_G_CACHE_DIR: path.join(dir, 'cache') };
  const fail = await runChild(['embed', '--input', csv, '--text-column', 'text', '--model', 'openai:m', '--out', out], env);
  t.is(fail.code, 1);
  t.regex(fail.stderr, /synapse-g: error: .*in\.csv row 2: column "text" is empty.*--skip-empty/);
  await t.throwsAsync(fsp.access(out));

  const ok = await runChild(
    ['embed', '--input', csv, '--text-column', 'text', '--id-column', 'id', '--model', 'openai:m', '--out', out, '--skip-empty', '--progress'],
    env,
  );
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /skipped 2 empty row\(s\) \(column "id"\): a2, a4/);
  t.regex(ok.stderr, /\d+\/2 rows \| [\d.,]+ rows\/s \| ETA/);
  t.regex(ok.stderr, /wrote .*out\.npy \(2 × 6 float32\) with openai:m/);
  t.is(await fsp.readFile(skippedSidecarPath(out), 'utf8'), 'a2\na4\n');
  const { shape, data } = await readNpy(out);
  t.deepEqual(shape, [2, 6]);
  expectRows(t, data, ['fine', 'also fine'], 6);
  t.true((await fsp.readdir(path.join(dir, 'cache'))).includes('embeddings'), 'SYNAPSE_G_CACHE_DIR is the default cache root');
});

test('progress bar: silent on a non-TTY unless forced; forced, it prints counts, rows/s and ETA', async (t) => {
  const dir = await tmpDir(t);
  const draw = async (force: boolean) => {
    const file = path.join(dir, `bar-${force}.txt`);
    const stream = createWriteStream(file);
    const bar = createProgressBar(10, { force, label: 'embedding', stream: stream as unknown as NodeJS.WriteStream, nonTtyIntervalS: 0.01 });
    t.is(bar.enabled, force);
    for (let i = 1; i <= 10; i++) bar.update(i);
    bar.stop();
    await new Promise<void>((r) => stream.end(r));
    return fsp.readFile(file, 'utf8');
  };
  t.is(await draw(false), '');
  t.regex(await draw(true), /embedding \[=+\] 100% \| 10\/10 rows \| [\d.,]+ rows\/s \| ETA/);
});
