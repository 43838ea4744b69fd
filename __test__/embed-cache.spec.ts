import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheKey, defaultCacheDir, modelCacheDir, withCache } from '../src/embed/cache';
import { createOpenAIEmbedder } from '../src/embed/openai';
import { removeStaleTempFiles, writeFileAtomic } from '../src/util/atomic';
import { expectedEmbedding, startOpenAIServer } from './helpers/openai-server';

const REPO = path.resolve(__dirname, '..');

async function tmpDir(t: import('ava').ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-cache-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

function assertRows(t: import('ava').ExecutionContext, got: Float32Array, input: readonly string[], dim: number): void {
  t.is(got.length, input.length * dim);
  let bad = -1;
  for (let i = 0; i < input.length && bad < 0; i++) {
    const want = expectedEmbedding(input[i], dim);
    for (let c = 0; c < dim; c++) if (Math.abs(got[i * dim + c] - want[c]) > 1e-6) bad = i;
  }
  t.is(bad, -1, bad >= 0 ? `row ${bad} (${JSON.stringify(input[bad])}) has the wrong vector` : 'all rows right');
}

async function batchFiles(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).filter((n) => n.endsWith('.sgec')).sort();
  } catch {
    return [];
  }
}

test('a second run over the same corpus embeds nothing; duplicates and overlaps embed only what is new', async (t) => {
  const server = await startOpenAIServer({ dim: 16 });
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const make = async () =>
    withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', batchSize: 7 }), { dir, flushEvery: 10 });
  const corpus = Array.from({ length: 45 }, (_, i) => `sentence ${i % 40}`); // 5 duplicates
  const a = await make();
  const first = await a.embed(corpus);
  assertRows(t, first, corpus, 16);
  t.is(server.embeddedInputs, 40, 'duplicates are embedded once');
  t.is(a.stats.embedded, 40);
  t.is((await batchFiles(a.cacheDir)).length, 4, 'flushed every 10 distinct texts');

  // A new process-equivalent (fresh embedder + fresh cache object), same corpus: nothing is sent.
  const b = await make();
  t.is(b.dim, 0, 'dim unknown until the cache is read');
  const progress: number[] = [];
  const second = await b.embed(corpus, { onProgress: (p) => progress.push(p.done) });
  t.is(server.embeddedInputs, 40, 'second run sent no text');
  t.is(server.requests.length, 8, 'the first run sent 4 chunks × 2 batches');
  t.deepEqual(second, first);
  t.is(b.dim, 16, 'dim learned from the cache');
  t.deepEqual(progress, [45]);
  t.is(b.stats.hits, 45);

  // Overlap: only new texts are embedded.
  const more = [...corpus.slice(0, 20), 'brand new one', 'brand new two'];
  assertRows(t, await b.embed(more), more, 16);
  t.is(server.embeddedInputs, 42);

  // A different model id never sees these entries.
  const other = withCache(await createOpenAIEmbedder({ model: 'other', baseUrl: server.baseUrl, apiKey: '' }), { dir });
  t.not(other.cacheDir, a.cacheDir);
  await other.embed(corpus.slice(0, 3));
  t.is(server.embeddedInputs, 45);
  t.deepEqual(await b.embed([]), new Float32Array(0));
});

test('cache key and folders are stable and documented', (t) => {
  t.is(cacheKey('use-lite', 'hello').toString('hex'), '36db631640147683f556694f6512ef111d88dc0c3a186dd6abda139d72cfb9a2');
  t.deepEqual(cacheKey('m', 'x'), createHash('sha256').update('m\0x').digest());
  t.notDeepEqual(cacheKey('m', 'x'), cacheKey('n', 'x'));
  t.regex(path.basename(modelCacheDir('/c', 'openai:text-embedding-3-small')), /^openai_text-embedding-3-small-[0-9a-f]{12}$/);
  const saved = process.env.SYNAPSE_G_CACHE_DIR;
  t.teardown(() => {
    if (saved === undefined) delete process.env.SYNAPSE_G_CACHE_DIR;
    else process.env.SYNAPSE_G_CACHE_DIR = saved;
  });
  process.env.SYNAPSE_G_CACHE_DIR = '/some/where';
  t.is(defaultCacheDir(), path.resolve('/some/where'));
  delete process.env.SYNAPSE_G_CACHE_DIR;
  t.is(defaultCacheDir(), path.join(os.homedir(), '.cache', 'synapse-g'));
});

test('torn and corrupt batch files are ignored and their texts embedded again', async (t) => {
  const server = await startOpenAIServer({ dim: 8 });
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const make = async () => withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '' }), { dir, flushEvery: 5 });
  const corpus = Array.from({ length: 15 }, (_, i) => `doc ${i}`);
  const a = await make();
  await a.embed(corpus);
  const files = await batchFiles(a.cacheDir);
  t.is(files.length, 3);
  // 1: truncate one file (as a non-atomic writer killed mid-write would leave it)
  const f0 = path.join(a.cacheDir, files[0]);
  const buf0 = await fsp.readFile(f0);
  await fsp.writeFile(f0, buf0.subarray(0, buf0.length - 50));
  // 2: flip one byte inside a vector of another file (size intact, checksum fails)
  const f1 = path.join(a.cacheDir, files[1]);
  const buf1 = await fsp.readFile(f1);
  buf1[buf1.length - 40] ^= 0xff;
  await fsp.writeFile(f1, buf1);
  // 3: garbage and a leftover temp file
  await fsp.writeFile(path.join(a.cacheDir, 'zzz-garbage.sgec'), 'not a cache file');
  await fsp.writeFile(path.join(a.cacheDir, `.${files[2]}.123.abc.tmp`), buf0.subarray(0, 100));

  const before = server.embeddedInputs;
  const b = await make();
  const out = await b.embed(corpus);
  assertRows(t, out, corpus, 8);
  t.is(server.embeddedInputs - before, 10, 'only the 10 texts of the two damaged files were embedded again');
  t.is(b.stats.hits, 5);
  t.true(b.stats.corruptFiles >= 3);
  await t.throwsAsync(fsp.access(f1), undefined, 'a file failing its checksum is removed');

  const c = await make();
  await c.embed(corpus);
  t.is(server.embeddedInputs - before, 10, 'third run embeds nothing');
});

test('a writer killed with SIGKILL mid-write leaves no corrupt entry; the next run embeds only what is missing', async (t) => {
  const dim = 256;
  const server = await startOpenAIServer({ dim });
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const n = 9000;
  const flushEvery = 300;
  const corpus = Array.from({ length: n }, (_, i) => `row ${i} of the corpus`);
  const child = path.join(dir, 'writer.ts');
  await fsp.writeFile(
    child,
    `import { withCache } from ${JSON.stringify(path.join(REPO, 'src/embed/cache'))};
import { createOpenAIEmbedder } from ${JSON.stringify(path.join(REPO, 'src/embed/openai'))};
(async () => {
  const e = withCache(await createOpenAIEmbedder({ model: 'm', batchSize: 100, concurrency: 2 }), { dir: process.env.CACHE_ROOT, flushEvery: ${flushEvery} });
  const corpus = Array.from({ length: ${n} }, (_, i) => \`row \${i} of the corpus\`);
  await e.embed(corpus);
  process.stdout.write('finished\\n');
})();
`,
  );
  const probe = withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '' }), { dir });
  const mdir = probe.cacheDir;

  let tornLeft = false;
  for (let attempt = 0; attempt < 8 && !tornLeft; attempt++) {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      cwd: REPO,
      env: { ...process.env, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: '', CACHE_ROOT: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    const startFiles = (await batchFiles(mdir)).length;
    // Wait (bounded) until a batch file is complete and the next one is being written.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !exitedEarly) {
      let names: string[] = [];
      try {
        names = await fsp.readdir(mdir);
      } catch {
        // not created yet
      }
      const done = names.filter((x) => x.endsWith('.sgec')).length;
      if (done > startFiles && names.some((x) => x.endsWith('.tmp'))) break;
      await new Promise((r) => setImmediate(r));
    }
    t.false(exitedEarly, `the writer should still be running; stderr: ${stderr}`);
    proc.kill('SIGKILL');
    await exited;
    tornLeft = (await fsp.readdir(mdir)).some((x) => x.endsWith('.tmp'));
    t.log(`attempt ${attempt + 1}: ${tornLeft ? 'killed mid-write' : 'killed between writes'}`);
  }
  t.true(tornLeft, 'the writer was killed mid-write at least once (a torn temp file is left)');

  const complete = await batchFiles(mdir);
  t.true(complete.length >= 1);
  const cachedRows = complete.length * flushEvery;
  t.true(cachedRows < n);

  const before = server.embeddedInputs;
  const again = withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', batchSize: 500 }), { dir, flushEvery: 2000 });
  const out = await again.embed(corpus);
  assertRows(t, out, corpus, dim);
  t.is(again.stats.corruptFiles, 0, 'no visible batch file was torn');
  t.is(again.stats.hits, cachedRows);
  t.is(server.embeddedInputs - before, n - cachedRows, 'only the missing texts were embedded');

  const third = withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '' }), { dir });
  await third.embed(corpus);
  t.is(server.embeddedInputs - before, n - cachedRows, 'a third run embeds nothing');
});

test('an unwritable cache warns but the embedding still succeeds', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  const dir = await tmpDir(t);
  const blocker = path.join(dir, 'file-not-dir');
  await fsp.writeFile(blocker, 'x');
  const warnings: string[] = [];
  const e = withCache(await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '' }), {
    dir: blocker,
    onWarning: (m) => warnings.push(m),
  });
  const input = ['a', 'b'];
  assertRows(t, await e.embed(input), input, 8);
  t.is(e.stats.writeErrors, 1);
  t.regex(warnings[0], /could not write the embedding cache/);
  t.throws(() => withCache(e, { dir, flushEvery: 0 }), { message: /^flushEvery:/ });
});

test('writeFileAtomic replaces whole files and never leaves temp files; stale temps are cleaned', async (t) => {
  const dir = await tmpDir(t);
  const f = path.join(dir, 'sub', 'out.bin');
  await writeFileAtomic(f, 'first');
  await writeFileAtomic(f, Buffer.from('second'));
  t.is(await fsp.readFile(f, 'utf8'), 'second');
  await writeFileAtomic(f, [Buffer.from('a'), Buffer.from('b')]);
  t.is(await fsp.readFile(f, 'utf8'), 'ab');
  t.deepEqual(await fsp.readdir(path.dirname(f)), ['out.bin']);
  // failure: the target is a folder, so the rename fails; no temp is left, the folder survives
  const d = path.join(dir, 'sub', 'adir');
  await fsp.mkdir(d);
  await t.throwsAsync(writeFileAtomic(d, 'x'));
  t.deepEqual((await fsp.readdir(path.dirname(f))).sort(), ['adir', 'out.bin']);
  // stale temp cleanup leaves fresh ones alone
  const stale = path.join(dir, '.x.1.aa.tmp');
  const fresh = path.join(dir, '.y.1.bb.tmp');
  await fsp.writeFile(stale, '');
  await fsp.writeFile(fresh, '');
  const old = new Date(Date.now() - 2 * 3_600_000);
  await fsp.utimes(stale, old, old);
  t.is(await removeStaleTempFiles(dir), 1);
  t.deepEqual((await fsp.readdir(dir)).filter((x) => x.endsWith('.tmp')), ['.y.1.bb.tmp']);
  t.is(await removeStaleTempFiles(path.join(dir, 'missing')), 0);
});
