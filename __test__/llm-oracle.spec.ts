/**
 * The chat client, JSON extraction and the LLM oracle, against a real scripted
 * OpenAI-compatible server on 127.0.0.1 (no mocks).
 */
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, SynapseError } from '../src/errors';
import { createChatClient, extractJson, stripTrailingCommas } from '../src/llm';
import { createLlmOracle, OracleIncompleteError, parseLlmOracleSpec, parseVerdict, type Verdict } from '../src/oracle/llm';
import type { OracleItem } from '../src/oracle/oracle';
import { HttpError } from '../src/util/http';
import { chatAnswer, lastChatMessage, startOpenAIServer, type RecordedRequest } from './helpers/openai-server';

const CHAT = '/v1/chat/completions';
/** Fast client retries for tests: tiny real delays. */
const fast = { baseDelayMs: 2, maxDelayMs: 20 };

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-llm-oracle-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

async function chatServer(t: ExecutionContext, handler: (req: RecordedRequest) => ReturnType<typeof chatAnswer> | Promise<ReturnType<typeof chatAnswer>>) {
  const server = await startOpenAIServer({ routes: { [CHAT]: handler } });
  t.teardown(() => server.close());
  return server;
}

const items = (...texts: string[]): OracleItem[] => texts.map((text, row) => ({ row, id: `r${row}`, text }));
const textOf = (req: RecordedRequest): string => lastChatMessage(req).split('Text:\n')[1] ?? '';
const verdict = (label: 'positive' | 'negative', confidence = 0.9) => chatAnswer(JSON.stringify({ label, confidence, rationale: `it is ${label}` }));

/** A rater: positive when the text says POS, negative otherwise; confidence 0.3 for UNSURE. */
const rater = (req: RecordedRequest) => {
  const text = textOf(req);
  return verdict(text.includes('POS') ? 'positive' : 'negative', text.includes('UNSURE') ? 0.3 : 0.9);
};

// ---------------------------------------------------------------- chat client

test('chat client: sends model, messages, options and key; returns text and usage; counts', async (t) => {
  const server = await chatServer(t, () => chatAnswer('hello there', { prompt_tokens: 7, completion_tokens: 3 }));
  const client = createChatClient({ model: 'm-1', baseUrl: `${server.baseUrl}/`, apiKey: 'sk-test-abcdef' });
  t.is(client.baseUrl, server.baseUrl, 'trailing slash dropped');
  t.is(server.requests.length, 0, 'creating the client sends nothing');
  const r = await client.complete([{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }], { temperature: 0.5, maxTokens: 20, responseFormatJson: true });
  t.deepEqual(r, { text: 'hello there', usage: { promptTokens: 7, completionTokens: 3 } });
  const req = server.requests[0];
  t.is(req.path, CHAT);
  t.is(req.headers.authorization, 'Bearer sk-test-abcdef');
  t.deepEqual(req.body, {
    model: 'm-1',
    messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }],
    temperature: 0.5,
    max_tokens: 20,
    response_format: { type: 'json_object' },
  });
  const plain = await client.complete([{ role: 'user', content: 'again' }]);
  t.is(plain.text, 'hello there');
  const body = server.requests[1].body as Record<string, unknown>;
  t.is(body.temperature, 0);
  t.false('response_format' in body);
  t.false('max_tokens' in body);
  t.deepEqual(client.stats(), { requests: 2, promptTokens: 14, completionTokens: 6 });
});

test('chat client: 429 is retried after Retry-After, then succeeds', async (t) => {
  const server = await chatServer(t, () => chatAnswer('ok'));
  server.faults.push({ path: CHAT, status: 429, headers: { 'retry-after': '1' } });
  const client = createChatClient({ model: 'm', baseUrl: server.baseUrl, ...fast, maxDelayMs: 5000 });
  const t0 = Date.now();
  const r = await client.complete([{ role: 'user', content: 'x' }]);
  const waited = Date.now() - t0;
  t.is(r.text, 'ok');
  t.is(server.requests.length, 2);
  t.true(waited >= 900, `Retry-After: 1 honoured (waited ${waited} ms, backoff alone would be ~2 ms)`);
  t.is(client.stats().requests, 2, 'the retry is counted');
});

test('chat client: 5xx and dropped connections are retried; giving up says how often it tried', async (t) => {
  const server = await chatServer(t, () => chatAnswer('fine'));
  server.faults.push({ path: CHAT, status: 500 }, { path: CHAT, status: 503 }, { path: CHAT, destroy: true });
  const client = createChatClient({ model: 'm', baseUrl: server.baseUrl, ...fast, maxRetries: 3 });
  t.is((await client.complete([{ role: 'user', content: 'x' }])).text, 'fine');
  t.is(server.requests.length, 4);
  t.is(client.stats().requests, 4);

  for (let i = 0; i < 3; i++) server.faults.push({ path: CHAT, status: 502 });
  const stubborn = createChatClient({ model: 'm', baseUrl: server.baseUrl, ...fast, maxRetries: 2 });
  const err = await t.throwsAsync(stubborn.complete([{ role: 'user', content: 'x' }]), { instanceOf: HttpError });
  t.is(err?.status, 502);
  t.true(err?.retryable);
  t.regex(err?.message ?? '', /gave up after 3 attempts/);
  t.is(stubborn.stats().requests, 3);
});

test('chat client: a response slower than the timeout is retried, then succeeds', async (t) => {
  const server = await chatServer(t, () => chatAnswer('late but fine'));
  server.faults.push({ path: CHAT, delayMs: 1500 });
  const client = createChatClient({ model: 'm', baseUrl: server.baseUrl, timeoutMs: 150, ...fast });
  const t0 = Date.now();
  t.is((await client.complete([{ role: 'user', content: 'x' }])).text, 'late but fine');
  t.true(Date.now() - t0 < 1200, 'did not wait for the slow answer');
  t.is(server.requests.length, 2);
});

test('chat client: another 4xx fails at once with the server message and the key redacted', async (t) => {
  const server = await chatServer(t, () => chatAnswer('never'));
  server.faults.push({ path: CHAT, status: 401, body: { error: { message: 'Incorrect API key provided: sk-test-secret99' } } });
  const client = createChatClient({ model: 'm', baseUrl: server.baseUrl, apiKey: 'sk-test-secret99', ...fast });
  const err = await t.throwsAsync(client.complete([{ role: 'user', content: 'x' }]), { instanceOf: HttpError });
  t.is(err?.status, 401);
  t.false(err?.retryable);
  t.regex(err?.message ?? '', /HTTP 401.*Incorrect API key provided: \*\*\*/);
  t.false(err?.message.includes('sk-test-secret99'));
  t.is(server.requests.length, 1, 'not retried');
  // A response without choices is a clear error too.
  server.faults.push({ path: CHAT, mutate: () => ({ choices: [] }) });
  await t.throwsAsync(client.complete([{ role: 'user', content: 'x' }]), { instanceOf: SynapseError, message: /no choices\[0\]\.message\.content/ });
});

test('chat client: never more requests in flight than its concurrency', async (t) => {
  let inFlight = 0;
  let most = 0;
  const server = await chatServer(t, async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 40));
    inFlight--;
    return chatAnswer('x');
  });
  const client = createChatClient({ model: 'm', baseUrl: server.baseUrl, concurrency: 2 });
  t.is(client.concurrency, 2);
  const out = await Promise.all(Array.from({ length: 6 }, (_, i) => client.complete([{ role: 'user', content: `q${i}` }])));
  t.is(out.length, 6);
  t.is(most, 2);
});

test('chat client: bad options name the argument', (t) => {
  t.is(t.throws(() => createChatClient({ model: ' ' }), { instanceOf: InvalidArgumentError })?.argument, 'model');
  t.is(t.throws(() => createChatClient({ model: 'm', baseUrl: 'not a url' }), { instanceOf: InvalidArgumentError })?.argument, 'baseUrl');
  t.is(t.throws(() => createChatClient({ model: 'm', baseUrl: 'ftp://x' }), { instanceOf: InvalidArgumentError })?.argument, 'baseUrl');
  t.is(t.throws(() => createChatClient({ model: 'm', baseUrl: 'http://127.0.0.1:1/v1', concurrency: 0 }), { instanceOf: InvalidArgumentError })?.argument, 'concurrency');
  t.is(t.throws(() => createChatClient({ model: 'm', baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: -1 }), { instanceOf: InvalidArgumentError })?.argument, 'timeoutMs');
});

// ---------------------------------------------------------------- JSON out of model text

test('extractJson: fences, prose, trailing commas, brackets in strings; undefined when none', (t) => {
  t.deepEqual(extractJson('```json\n{"a": [1, 2,],}\n```'), { a: [1, 2] });
  t.deepEqual(extractJson('Sure!\n```\n["x", "y",]\n```\nAnything else?'), ['x', 'y']);
  t.deepEqual(extractJson('Here you go: ["x", "y"] hope it helps'), ['x', 'y']);
  t.deepEqual(extractJson('{"s": "a } inside, ]"}'), { s: 'a } inside, ]' });
  t.deepEqual(extractJson('{"s": "keep ,] and ,} in strings",}'), { s: 'keep ,] and ,} in strings' });
  t.deepEqual(extractJson('See [citation needed] and then {"label": "positive"}'), { label: 'positive' });
  t.deepEqual(extractJson('{"q": "say \\"hi\\" {"}'), { q: 'say "hi" {' });
  t.is(extractJson('no json here'), undefined);
  t.is(extractJson('{"truncated": "answ'), undefined);
  t.is(extractJson('42'), undefined);
  t.is(extractJson(''), undefined);
  t.is(stripTrailingCommas('[1, 2 , ]'), '[1, 2  ]');
});

test('parseVerdict: labels, confidence clamping and what is not a verdict', (t) => {
  t.deepEqual(parseVerdict('{"label":"Positive","confidence":"0.7","rationale":"r"}'), { label: true, confidence: 0.7, rationale: 'r' });
  t.deepEqual(parseVerdict('```json\n{"label": "negative", "confidence": 3,}\n```'), { label: false, confidence: 1, rationale: '' });
  t.is(parseVerdict('{"label": "positive"}')?.confidence, 0.5);
  t.is(parseVerdict('{"label":"maybe"}'), undefined);
  t.is(parseVerdict('["positive"]'), undefined);
  t.is(parseVerdict("I'm sorry, I can't help with that."), undefined);
});

test('parseLlmOracleSpec reads llm:MODEL and names the flag otherwise', (t) => {
  t.deepEqual(parseLlmOracleSpec('llm:gpt-4o-mini'), { model: 'gpt-4o-mini' });
  t.deepEqual(parseLlmOracleSpec('llm:org/model:7b'), { model: 'org/model:7b' });
  for (const bad of ['llm:', 'llm: ', 'gpt-4o', 'human']) {
    const e = t.throws(() => parseLlmOracleSpec(bad), { instanceOf: InvalidArgumentError });
    t.is(e?.argument, '--oracle');
  }
  t.is(t.throws(() => parseLlmOracleSpec('x', '--judge'), { instanceOf: InvalidArgumentError })?.argument, '--judge');
});

// ---------------------------------------------------------------- the LLM oracle

test('LLM oracle: scripted verdicts in order, rubric and text sent, JSON asked for, answers reported', async (t) => {
  const server = await chatServer(t, rater);
  const oracle = createLlmOracle({ client: createChatClient({ model: 'rater', baseUrl: server.baseUrl, ...fast }), rubric: 'Positive means the text says POS.', cacheDir: await tmp(t) });
  t.is(oracle.name, 'llm rater');
  const answered: [string, boolean | undefined][] = [];
  const progress: number[] = [];
  const got = await oracle.label(items('a POS row', 'a plain row', 'POS again', 'nothing'), {
    onAnswer: async (it, l) => void answered.push([it.id, l]),
    onProgress: (done, total) => progress.push(done * 100 + total),
  });
  t.deepEqual(got, [true, false, true, false]);
  t.deepEqual(answered.sort(), [['r0', true], ['r1', false], ['r2', true], ['r3', false]]);
  t.deepEqual(progress, [104, 204, 304, 404]);
  t.is(server.requests.length, 4);
  for (const req of server.requests) {
    const body = req.body as { model: string; response_format: unknown; messages: { role: string; content: string }[] };
    t.is(body.model, 'rater');
    t.deepEqual(body.response_format, { type: 'json_object' });
    t.is(body.messages[0].role, 'system');
    t.regex(body.messages[0].content, /"label": "positive" or "negative"/);
    t.regex(body.messages[1].content, /^Rubric:\nPositive means the text says POS\.\n\nText:\n/);
  }
  const s = oracle.stats();
  t.is(s.requests, 4);
  t.is(s.promptTokens, 40);
  t.is(s.completionTokens, 20);
  t.is(s.failures, 0);
  t.is(s.cacheHits, 0);
});

test('LLM oracle: 429, 500 and a timeout are retried, malformed JSON is asked again; requests and tokens counted', async (t) => {
  const server = await chatServer(t, rater);
  server.faults.push(
    { path: CHAT, status: 429, headers: { 'retry-after': '0' } },
    { path: CHAT, status: 500 },
    { path: CHAT, delayMs: 500 },
    { path: CHAT, mutate: () => chatAnswer('{"label": "posit').body },
    { path: CHAT, mutate: () => 'this is not JSON at all' },
  );
  const client = createChatClient({ model: 'rater', baseUrl: server.baseUrl, timeoutMs: 200, ...fast, concurrency: 1 });
  const oracle = createLlmOracle({ client, rubric: 'POS is positive', cacheDir: await tmp(t), retryBaseDelayMs: 2 });
  t.deepEqual(await oracle.label(items('one POS', 'two', 'three POS')), [true, false, true]);
  const s = oracle.stats();
  t.is(s.malformed, 2, 'a truncated verdict and a non-JSON response were asked again');
  t.is(s.requests, 8, '3 verdicts + 3 transport retries + 2 malformed re-asks');
  t.is(server.requests.length, 8);
  // Usage is counted for every 200 that carried it: 3 good answers + the truncated one.
  t.is(s.promptTokens, 40);
  t.is(s.completionTokens, 20);
  t.is(s.failures, 0);
  t.deepEqual(s.unlabeled, []);
});

test('LLM oracle: a row that never gets a valid verdict stays unlabeled and is reported; nothing is invented', async (t) => {
  const server = await chatServer(t, (req) => {
    const text = textOf(req);
    if (text.includes('REFUSE')) return chatAnswer("I'm sorry, but I can't help with that request.");
    if (text.includes('GARBLE')) return chatAnswer('{"label": "perhaps", "confidence": 0.5}');
    return rater(req);
  });
  const client = createChatClient({ model: 'rater', baseUrl: server.baseUrl, ...fast });
  const oracle = createLlmOracle({ client, rubric: 'POS is positive', cacheDir: await tmp(t), attempts: 3, retryBaseDelayMs: 2 });
  const batch = items('POS one', 'please REFUSE', 'plain', 'GARBLE POS');

  const partial = await oracle.labelPartial(batch);
  t.deepEqual(partial, [true, undefined, false, undefined]);
  t.is(server.requests.filter((r) => textOf(r).includes('REFUSE')).length, 3, 'asked attempts times');
  let s = oracle.stats();
  t.is(s.failures, 2);
  t.deepEqual(s.unlabeled, ['r1', 'r3']);
  t.is(s.malformed, 6);

  const delivered: string[] = [];
  const err = await t.throwsAsync(oracle.label(batch, { onAnswer: async (it) => void delivered.push(it.id) }), { instanceOf: OracleIncompleteError });
  t.true(err instanceof SynapseError);
  t.is(err?.code, 'ORACLE_INCOMPLETE');
  t.deepEqual(err?.ids, ['r1', 'r3']);
  t.regex(err?.message ?? '', /no valid verdict for 2 row\(s\) after 3 attempts each \(ids: r1, r3\)/);
  t.deepEqual(delivered.sort(), ['r0', 'r2'], 'every other verdict is delivered before the error');
  s = oracle.stats();
  t.is(s.failures, 4);
  t.is(s.cacheHits, 2, 'the good rows came from the cache the second time');
});

test('LLM oracle: a row whose requests keep failing (5xx) is reported unlabeled; a 401 fails the batch', async (t) => {
  const server = await chatServer(t, (req) => {
    if (textOf(req).includes('BROKEN')) return { status: 500, body: { error: { message: 'model crashed' } } };
    return rater(req);
  });
  const client = createChatClient({ model: 'rater', baseUrl: server.baseUrl, ...fast, maxRetries: 2 });
  const oracle = createLlmOracle({ client, rubric: 'POS is positive', cacheDir: await tmp(t), retryBaseDelayMs: 2 });
  t.deepEqual(await oracle.labelPartial(items('POS', 'BROKEN POS', 'no')), [true, undefined, false]);
  t.is(server.requests.filter((r) => textOf(r).includes('BROKEN')).length, 3, 'the client retried, then the row was given up');
  t.deepEqual(oracle.stats().unlabeled, ['r1']);

  const keyed = await startOpenAIServer({ apiKey: 'sk-right-key-1', routes: { [CHAT]: rater } });
  t.teardown(() => keyed.close());
  const wrong = createLlmOracle({
    client: createChatClient({ model: 'rater', baseUrl: keyed.baseUrl, apiKey: 'sk-wrong-key-2', ...fast }),
    rubric: 'POS is positive',
    cacheDir: await tmp(t),
  });
  const e = await t.throwsAsync(wrong.label(items('a', 'b POS')), { instanceOf: HttpError });
  t.is(e?.status, 401);
  t.false(e?.message.includes('sk-wrong-key-2'), 'key redacted');
  t.deepEqual(wrong.stats().unlabeled, [], 'a fatal error is not reported as unlabeled rows');
});

test('LLM oracle: verdicts are cached on disk by model + rubric + text; a second run asks nothing', async (t) => {
  const server = await chatServer(t, rater);
  const dir = await tmp(t);
  const client = createChatClient({ model: 'rater', baseUrl: server.baseUrl, ...fast });
  const rubric = 'POS is positive';
  const batch = items('a POS', 'b', 'c POS');
  t.deepEqual(await createLlmOracle({ client, rubric, cacheDir: dir }).label(batch), [true, false, true]);
  t.is(server.requests.length, 3);
  const key = createHash('sha256').update(`rater\0${rubric}\0a POS`).digest('hex');
  const file = path.join(dir, 'llm-verdicts', `${key}.json`);
  t.true(existsSync(file));
  const entry = JSON.parse(await fsp.readFile(file, 'utf8')) as Verdict & { model: string };
  t.is(entry.label, true);
  t.is(entry.model, 'rater');
  t.deepEqual((await fsp.readdir(path.join(dir, 'llm-verdicts'))).filter((f) => !f.endsWith('.json')), [], 'no temporary files left');

  const again = createLlmOracle({ client, rubric, cacheDir: dir });
  t.deepEqual(await again.label(batch), [true, false, true]);
  t.is(server.requests.length, 3, 'second run: no request');
  t.is(again.stats().cacheHits, 3);

  // A corrupt entry is asked again and rewritten; another rubric or model has its own entries.
  await fsp.writeFile(file, '{"label": ');
  await createLlmOracle({ client, rubric, cacheDir: dir }).label(batch);
  t.is(server.requests.length, 4);
  t.is((JSON.parse(await fsp.readFile(file, 'utf8')) as Verdict).label, true);
  await createLlmOracle({ client, rubric: 'something else', cacheDir: dir }).label(batch);
  t.is(server.requests.length, 7);
  await createLlmOracle({ client: createChatClient({ model: 'other', baseUrl: server.baseUrl }), rubric, cacheDir: dir }).label(batch);
  t.is(server.requests.length, 10);
});

test('LLM oracle: SYNAPSE_G_CACHE_DIR is the default cache root', async (t) => {
  const server = await chatServer(t, rater);
  const dir = await tmp(t);
  const before = process.env.SYNAPSE_G_CACHE_DIR;
  process.env.SYNAPSE_G_CACHE_DIR = dir;
  t.teardown(() => {
    if (before === undefined) delete process.env.SYNAPSE_G_CACHE_DIR;
    else process.env.SYNAPSE_G_CACHE_DIR = before;
  });
  await createLlmOracle({ client: createChatClient({ model: 'rater', baseUrl: server.baseUrl }), rubric: 'r' }).label(items('POS'));
  t.is((await fsp.readdir(path.join(dir, 'llm-verdicts'))).length, 1);
});

test('LLM oracle: low-confidence verdicts are counted and reported through onLowConfidence', async (t) => {
  const server = await chatServer(t, rater);
  const low: [string, Verdict][] = [];
  const oracle = createLlmOracle({
    client: createChatClient({ model: 'rater', baseUrl: server.baseUrl }),
    rubric: 'POS is positive',
    cacheDir: await tmp(t),
    minConfidence: 0.5,
    onLowConfidence: (it, v) => low.push([it.id, v]),
  });
  t.deepEqual(await oracle.label(items('POS', 'UNSURE POS', 'UNSURE')), [true, true, false], 'the model verdict stands without a reviewer');
  t.deepEqual(low.map(([id, v]) => [id, v.label, v.confidence]).sort(), [['r1', true, 0.3], ['r2', false, 0.3]]);
  t.deepEqual(oracle.stats().lowConfidence.sort(), ['r1', 'r2']);
});

test('LLM oracle: bad options and text-less rows are named', async (t) => {
  const client = createChatClient({ model: 'm', baseUrl: 'http://127.0.0.1:9/v1' });
  t.is(t.throws(() => createLlmOracle({ client, rubric: '  ' }), { instanceOf: InvalidArgumentError })?.argument, '--rubric');
  t.is(t.throws(() => createLlmOracle({ client, rubric: 'r', minConfidence: 2 }), { instanceOf: InvalidArgumentError })?.argument, 'minConfidence');
  t.is(t.throws(() => createLlmOracle({ client, rubric: 'r', attempts: 0 }), { instanceOf: InvalidArgumentError })?.argument, 'attempts');
  const oracle = createLlmOracle({ client, rubric: 'r', cacheDir: await tmp(t) });
  const e = await t.throwsAsync(oracle.label([{ row: 0, id: 'v0', text: '' }]), { instanceOf: InvalidArgumentError });
  t.is(e?.argument, 'items[0]');
});

test('LLM oracle: the signal cancels a batch', async (t) => {
  const server = await chatServer(t, async (req) => {
    await new Promise((r) => setTimeout(r, 1500));
    return rater(req);
  });
  const oracle = createLlmOracle({ client: createChatClient({ model: 'rater', baseUrl: server.baseUrl }), rubric: 'r', cacheDir: await tmp(t) });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(new Error('stop now')), 50);
  const t0 = Date.now();
  await t.throwsAsync(oracle.label(items('a', 'b'), { signal: ctrl.signal }), { message: 'stop now' });
  t.true(Date.now() - t0 < 1000, 'cancelled, not waited for');
  t.deepEqual(oracle.stats().unlabeled, []);
});
