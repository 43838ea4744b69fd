import test from 'ava';
import { createOpenAIEmbedder } from '../src/embed/openai';
import { InvalidArgumentError, SynapseError } from '../src/errors';
import { HttpError, postJson } from '../src/util/http';
import { createLimiter, mapLimit } from '../src/util/limit';
import { backoffDelay, parseRetryAfter, retry } from '../src/util/retry';
import { expectedEmbedding, startOpenAIServer } from './helpers/openai-server';

const texts = (n: number, tag = 't') => Array.from({ length: n }, (_, i) => `${tag} number ${i}: "quoted", émoji ✓`);

/** Fast retries for tests: tiny real delays. */
const fast = { retryBaseDelayMs: 2, retryMaxDelayMs: 20 };

function assertRows(t: import('ava').ExecutionContext, got: Float32Array, input: readonly string[], dim: number) {
  t.is(got.length, input.length * dim);
  for (let i = 0; i < input.length; i++) {
    const want = expectedEmbedding(input[i], dim);
    let norm = 0;
    for (let c = 0; c < dim; c++) {
      norm += got[i * dim + c] ** 2;
      if (Math.abs(got[i * dim + c] - want[c]) > 1e-6) {
        t.fail(`row ${i} col ${c}: ${got[i * dim + c]} != ${want[c]}`);
        return;
      }
    }
    t.true(Math.abs(norm - 1) < 1e-5, `row ${i} is not unit length`);
  }
}

test('embeds in batches, keeps input order, normalises, discovers dim, sends model and key', async (t) => {
  const server = await startOpenAIServer({ dim: 12, apiKey: 'sk-test-123456' });
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'text-embedding-3-small', baseUrl: server.baseUrl, apiKey: 'sk-test-123456', batchSize: 4 });
  t.is(e.modelId, 'openai:text-embedding-3-small');
  t.is(e.dim, 0, 'dim is unknown before the first response');
  t.is(server.requests.length, 0, 'creating the embedder sends nothing');
  const input = texts(10);
  const progress: number[] = [];
  const out = await e.embed(input, { onProgress: (p) => progress.push(p.done) });
  t.is(e.dim, 12);
  assertRows(t, out, input, 12);
  t.is(server.requests.length, 3);
  t.is(e.requests, 3);
  const sizes = server.requests.map((r) => (r.body as { input: string[] }).input.length).sort();
  t.deepEqual(sizes, [2, 4, 4]);
  for (const r of server.requests) {
    t.is(r.path, '/v1/embeddings');
    t.is((r.body as { model: string }).model, 'text-embedding-3-small');
    t.is(r.headers.authorization, 'Bearer sk-test-123456');
  }
  t.is(progress.length, 3);
  t.is(progress[progress.length - 1], 10);
  // per-call batch size overrides the default
  await e.embed(input, { batchSize: 10 });
  t.is(server.requests.length, 4);
  t.deepEqual(await e.embed([]), new Float32Array(0));
});

test('never has more requests in flight than the concurrency limit', async (t) => {
  const server = await startOpenAIServer({ barrier: 3 });
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', batchSize: 2, concurrency: 3 });
  const input = texts(18);
  assertRows(t, await e.embed(input), input, 8);
  t.is(server.maxInFlight, 3, 'reaches but never exceeds 3');
  t.is(server.requests.length, 9);

  const serial = await startOpenAIServer();
  t.teardown(() => serial.close());
  const e1 = await createOpenAIEmbedder({ model: 'm', baseUrl: serial.baseUrl, apiKey: '', batchSize: 2, concurrency: 1 });
  await e1.embed(input);
  t.is(serial.maxInFlight, 1);
});

test('retries 429, 5xx, dropped connections and timeouts, then succeeds', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  server.faults.push(
    { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'Rate limit reached' } } },
    { status: 500 },
    { status: 503, body: 'upstream overloaded' },
    { destroy: true },
    { delayMs: 1500 },
  );
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', timeoutMs: 300, maxRetries: 6, ...fast });
  const input = texts(3);
  assertRows(t, await e.embed(input), input, 8);
  t.is(server.faults.length, 0, 'every fault was hit');
  t.is(e.requests, 6, '5 failures + 1 success');
});

test('gives up after maxRetries with a message saying so', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  for (let i = 0; i < 5; i++) server.faults.push({ status: 502 });
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', maxRetries: 2, ...fast });
  const err = await t.throwsAsync(e.embed(['a']), { instanceOf: HttpError });
  t.is(err?.status, 502);
  t.regex(err!.message, /HTTP 502.*gave up after 3 attempts/);
  t.is(server.requests.length, 3);
});

test('other 4xx fail at once with the server message and never print the API key', async (t) => {
  const server = await startOpenAIServer({ apiKey: 'sk-right-key-000' });
  t.teardown(() => server.close());
  const secret = 'sk-wrong-SECRET-987654';
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: secret, ...fast });
  const err = await t.throwsAsync(e.embed(['a', 'b']), { instanceOf: SynapseError });
  t.is((err as HttpError).status, 401);
  t.regex(err!.message, /HTTP 401.*Incorrect API key provided/);
  t.false(err!.message.includes(secret), err!.message);
  t.false(String(err!.stack).includes(secret));
  t.is(server.requests.length, 1, 'a 401 is not retried');

  server.faults.push({ status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens" } } });
  const ok = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: 'sk-right-key-000', ...fast });
  const err2 = await t.throwsAsync(ok.embed(['a']));
  t.regex(err2!.message, /HTTP 400.*maximum context length/);
  t.is(server.requests.length, 2);
});

test('rejects malformed responses: wrong count, bad index, non-finite, ragged, zero vectors, not JSON', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', ...fast });
  type Body = { data: Array<{ index: number; embedding: unknown }> };
  const cases: Array<[string, (b: unknown) => unknown, RegExp]> = [
    ['count', (b) => ({ data: (b as Body).data.slice(1) }), /1 embeddings for 2 inputs/],
    ['index', (b) => ({ data: (b as Body).data.map((d) => ({ ...d, index: 0 })) }), /appears twice/],
    ['nan', (b) => ({ data: (b as Body).data.map((d) => ({ ...d, embedding: [1, null, 3, 4, 5, 6, 7, 8] })) }), /non-finite/],
    ['ragged', (b) => ({ data: (b as Body).data.map((d) => ({ ...d, embedding: d.index === 1 ? [1, 2] : d.embedding })) }), /dimension 2, expected 8/],
    ['zeros', (b) => ({ data: (b as Body).data.map((d) => ({ ...d, embedding: Array.from({ length: 8 }, () => 0) })) }), /all zeros/],
    ['nodata', () => ({ object: 'list' }), /no "data" array/],
    ['text', () => 'this is not json', /not JSON/],
  ];
  for (const [name, mutate, re] of cases) {
    server.faults.push({ mutate });
    const err = await t.throwsAsync(e.embed(['x', 'y']), { instanceOf: SynapseError }, name);
    t.regex(err!.message, re, name);
  }
  t.is(server.requests.length, cases.length, 'bad responses are not retried');
});

test('accepts base64 embeddings and the dimensions parameter', async (t) => {
  const server = await startOpenAIServer({ dim: 8 });
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', dimensions: 6 });
  t.is(e.dim, 6);
  t.is(e.modelId, 'openai:m:6');
  const input = ['alpha', 'beta'];
  server.faults.push({
    mutate: (b) => ({
      data: (b as { data: Array<{ index: number; embedding: number[] }> }).data.map((d) => ({
        index: d.index,
        embedding: Buffer.from(new Float32Array(d.embedding).buffer).toString('base64'),
      })),
    }),
  });
  assertRows(t, await e.embed(input), input, 6);
  t.is((server.requests[0].body as { dimensions: number }).dimensions, 6);
});

test('empty texts and bad options are InvalidArgumentErrors naming the argument', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '' });
  const err = await t.throwsAsync(e.embed(['ok', '  \n'], {}), { instanceOf: InvalidArgumentError });
  t.is(err?.argument, 'texts[1]');
  await t.throwsAsync(e.embed(['ok'], { batchSize: 0 }), { instanceOf: InvalidArgumentError, message: /batchSize/ });
  t.is(server.requests.length, 0);
  await t.throwsAsync(createOpenAIEmbedder({ model: '' }), { instanceOf: InvalidArgumentError, message: /^model:/ });
  await t.throwsAsync(createOpenAIEmbedder({ model: 'm', baseUrl: 'not a url' }), { message: /^baseUrl:/ });
  await t.throwsAsync(createOpenAIEmbedder({ model: 'm', baseUrl: 'ftp://x' }), { message: /^baseUrl:/ });
  await t.throwsAsync(createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, concurrency: 0 }), { message: /^concurrency:/ });
  await t.throwsAsync(createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, maxRetries: -1 }), { message: /^maxRetries:/ });
});

test('an aborted job rejects with the abort reason and stops sending', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  const e = await createOpenAIEmbedder({ model: 'm', baseUrl: server.baseUrl, apiKey: '', batchSize: 1, concurrency: 1 });
  const ctrl = new AbortController();
  const err = await t.throwsAsync(
    e.embed(texts(50), { signal: ctrl.signal, onProgress: (p) => p.done === 2 && ctrl.abort() }),
    { any: true },
  );
  t.is((err as Error | undefined)?.name, 'AbortError');
  t.true(server.requests.length < 50);
  const pre = new AbortController();
  pre.abort();
  await t.throwsAsync(e.embed(['a'], { signal: pre.signal }), { any: true, name: 'AbortError' });
});

test.serial('base URL and key come from OPENAI_BASE_URL and OPENAI_API_KEY', async (t) => {
  const server = await startOpenAIServer({ apiKey: 'sk-from-env-42' });
  t.teardown(() => server.close());
  const saved = { b: process.env.OPENAI_BASE_URL, k: process.env.OPENAI_API_KEY };
  t.teardown(() => {
    if (saved.b === undefined) delete process.env.OPENAI_BASE_URL;
    else process.env.OPENAI_BASE_URL = saved.b;
    if (saved.k === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved.k;
  });
  process.env.OPENAI_BASE_URL = `${server.baseUrl}/`;
  process.env.OPENAI_API_KEY = 'sk-from-env-42';
  const e = await createOpenAIEmbedder({ model: 'm' });
  t.is(e.baseUrl, server.baseUrl);
  assertRows(t, await e.embed(['hello']), ['hello'], 8);
});

test('postJson honours Retry-After (capped by maxDelayMs)', async (t) => {
  const server = await startOpenAIServer();
  t.teardown(() => server.close());
  server.faults.push(
    { status: 429, headers: { 'retry-after': '0' } },
    { status: 429, headers: { 'retry-after': '3600' } },
    { status: 503 },
  );
  const delays: number[] = [];
  const json = await postJson(`${server.baseUrl}/embeddings`, { model: 'm', input: ['a'] }, {
    maxDelayMs: 15,
    baseDelayMs: 1000,
    onRetry: (i) => delays.push(i.delayMs),
  });
  t.true(Array.isArray((json as { data: unknown[] }).data));
  t.is(delays.length, 3);
  t.is(delays[0], 0, 'Retry-After: 0');
  t.is(delays[1], 15, 'Retry-After: 3600 capped at maxDelayMs');
  t.true(delays[2] >= 1 && delays[2] <= 15, 'backoff without Retry-After, capped');
});

test('retry helpers: backoff bounds, Retry-After parsing, retry, limiter, mapLimit', async (t) => {
  for (let a = 0; a < 12; a++) {
    const cap = Math.min(1000, 10 * 2 ** a);
    t.is(backoffDelay(a, 10, 1000, () => 0), Math.round(cap * 0.1));
    t.is(backoffDelay(a, 10, 1000, () => 0.999999), Math.round(cap * (0.1 + 0.9 * 0.999999)));
  }
  t.is(parseRetryAfter('2'), 2000);
  t.is(parseRetryAfter('0.5'), 500);
  t.is(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000), 3000);
  t.is(parseRetryAfter('soon'), undefined);
  t.is(parseRetryAfter(null), undefined);

  let calls = 0;
  t.is(await retry(async () => (++calls < 3 ? Promise.reject(new Error('x')) : 'ok'), { baseDelayMs: 1 }), 'ok');
  t.is(calls, 3);
  calls = 0;
  await t.throwsAsync(retry(async () => { calls++; throw new Error('fatal'); }, { shouldRetry: () => false }), { message: 'fatal' });
  t.is(calls, 1);

  const limit = createLimiter(2);
  let active = 0;
  let peak = 0;
  const gates: Array<() => void> = [];
  const run = (v: number) =>
    limit(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((r) => gates.push(r));
      active--;
      return v;
    });
  const ps = [run(1), run(2), run(3), run(4)];
  while (gates.length < 2) await new Promise((r) => setImmediate(r));
  t.is(gates.length, 2, 'only two started');
  for (let released = 0; released < 4; released++) {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  }
  t.deepEqual(await Promise.all(ps), [1, 2, 3, 4]);
  t.is(peak, 2);
  t.throws(() => createLimiter(0), { instanceOf: InvalidArgumentError });

  t.deepEqual(await mapLimit([3, 1, 2], 2, async (x, i) => x * 10 + i), [30, 11, 22]);
  let started = 0;
  await t.throwsAsync(
    mapLimit([1, 2, 3, 4, 5, 6], 1, async (x) => {
      started++;
      if (x === 2) throw new Error('boom');
      return x;
    }),
    { message: 'boom' },
  );
  t.is(started, 2, 'no new calls after a failure');
});
