/**
 * Synthetic seed generation (`generateSeeds`) and `synapse-g generate`, against a real scripted
 * OpenAI-compatible server on 127.0.0.1 (no mocks).
 */
import test, { type ExecutionContext } from 'ava';
import { Command, CommanderError } from 'commander';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerGenerate } from '../src/cli/generate';
import type { Embedder } from '../src/embed/embedder';
import { InvalidArgumentError, SynapseError } from '../src/errors';
import { createChatClient, generatePrompt, generateSeeds, isRefusal } from '../src/llm';
import { HttpError } from '../src/util/http';
import { chatAnswer, lastChatMessage, startOpenAIServer, type RecordedRequest, type RouteResponse } from './helpers/openai-server';

const CHAT = '/v1/chat/completions';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-llm-gen-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

async function chatServer(t: ExecutionContext, handler: (req: RecordedRequest) => RouteResponse | Promise<RouteResponse>) {
  const server = await startOpenAIServer({ routes: { [CHAT]: handler } });
  t.teardown(() => server.close());
  return server;
}

/** Answers in turn from a script, then `rest(i)` (i counts from 0 over all calls). */
function scripted(script: string[], rest: (i: number) => string) {
  let i = 0;
  return () => {
    const k = i++;
    return chatAnswer(k < script.length ? script[k] : rest(k));
  };
}

/**
 * A deterministic embedder: texts equal up to case and punctuation share a vector (so they are
 * near-duplicates); others get unrelated unit vectors.
 */
function lettersEmbedder(): Embedder & { seen: string[] } {
  const dim = 32;
  const seen: string[] = [];
  return {
    modelId: 'letters',
    dim,
    seen,
    embed(texts) {
      seen.push(...texts);
      const out = new Float32Array(texts.length * dim);
      texts.forEach((x, r) => {
        const key = x.toLowerCase().replace(/[^a-z0-9 ]/g, '').trim();
        let h = 2166136261;
        for (let j = 0; j < dim; j++) {
          for (const ch of `${j}:${key}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
          out[r * dim + j] = (h % 2001) / 1000 - 1;
        }
        let n = 0;
        for (let j = 0; j < dim; j++) n += out[r * dim + j] ** 2;
        for (let j = 0; j < dim; j++) out[r * dim + j] /= Math.sqrt(n);
      });
      return Promise.resolve(out);
    },
  };
}

// ---------------------------------------------------------------- generateSeeds

test('generateSeeds: drops refusals, empties, exact and near duplicates, unparsable answers; counts usage', async (t) => {
  const server = await chatServer(
    t,
    scripted(
      [
        '```json\n["Win a free cruise now", "win a  FREE cruise now", "", "  ", "As an AI, I cannot write scams.", "Your parcel is held, pay the fee",]\n```',
        "I'm sorry, but I can't help with creating scam messages.",
        'Sure, here are some ideas: none of them in JSON',
        'Here: {"examples": ["Win a free cruise now!!", "Claim your lottery prize today", {"text": "Bank alert: verify your card"}, 42]}',
      ],
      (i) => JSON.stringify([`prize number ${i} alpha`, `prize number ${i} beta`]),
    ),
  );
  const embedder = lettersEmbedder();
  const client = createChatClient({ model: 'writer', baseUrl: server.baseUrl, concurrency: 1 });
  const kept: number[] = [];
  const r = await generateSeeds({ describe: 'prize and delivery scams', n: 7, client, embedder, batchSize: 6, onProgress: (k, n) => kept.push(k * 10 + n) });
  t.deepEqual(r.texts, [
    'Win a free cruise now',
    'Your parcel is held, pay the fee',
    'Claim your lottery prize today',
    'Bank alert: verify your card',
    'prize number 4 alpha',
    'prize number 4 beta',
    'prize number 5 alpha',
  ]);
  t.deepEqual(r.dropped, { refusals: 2, empty: 3, duplicates: 1, nearDuplicates: 1, unparsable: 1 });
  t.is(r.requests, 6);
  t.is(server.requests.length, 6);
  t.deepEqual(r.usage, { promptTokens: 60, completionTokens: 30 });
  t.deepEqual(kept, [27, 27, 27, 47, 67, 77], 'progress after each answer, capped at n');
  t.false(embedder.seen.includes('win a  FREE cruise now'), 'exact duplicates never reach the embedder');
  for (const x of r.texts) t.false(isRefusal(x));
  t.regex(r.prompt, /prize and delivery scams/);
  t.is(r.parameters.model, 'writer');
  t.is(r.parameters.dedupThreshold, 0.95);
  t.is(r.parameters.embedder, 'letters');
  t.is(r.parameters.batchSize, 6);
});

test('generateSeeds: a lower dedupThreshold drops more; without an embedder only exact duplicates go', async (t) => {
  const answers = ['["Win a free cruise now", "Win a free cruise now!!", "WIN A FREE CRUISE NOW"]'];
  const server = await chatServer(t, scripted(answers, () => '["Win a free cruise now"]'));
  const client = createChatClient({ model: 'w', baseUrl: server.baseUrl, concurrency: 1 });
  const plain = await generateSeeds({ describe: 'x', n: 3, client, batchSize: 3, maxRequests: 1 });
  t.deepEqual(plain.texts, ['Win a free cruise now', 'Win a free cruise now!!']);
  t.deepEqual(plain.dropped, { refusals: 0, empty: 0, duplicates: 1, nearDuplicates: 0, unparsable: 0 });
  t.is(plain.parameters.dedupThreshold, null);
  // Unrelated texts have cosine well below 1; a threshold of -0.99 makes everything after the first a near-duplicate.
  const server2 = await chatServer(t, () => chatAnswer('["alpha one", "beta two", "gamma three"]'));
  const strict = await generateSeeds({ describe: 'x', n: 3, client: createChatClient({ model: 'w', baseUrl: server2.baseUrl }), embedder: lettersEmbedder(), dedupThreshold: -0.99, maxRequests: 1 });
  t.deepEqual(strict.texts, ['alpha one']);
  t.is(strict.dropped.nearDuplicates, 2);
});

test('generateSeeds: each request varies persona, tone, length and topic, with rotating few-shot examples', async (t) => {
  const server = await chatServer(t, (req) => chatAnswer(JSON.stringify([`${lastChatMessage(req).length} ${Math.random()}`])));
  const client = createChatClient({ model: 'w', baseUrl: server.baseUrl, concurrency: 1 });
  const examples = ['ex zero', 'ex one', 'ex two', 'ex three', 'ex four', 'ex five', 'ex six'];
  const r = await generateSeeds({ describe: 'messages about a fake prize', examples, n: 4, client, batchSize: 1 });
  t.is(r.texts.length, 4);
  const prompts = server.requests.map(lastChatMessage);
  t.is(prompts.length, 4);
  t.is(new Set(prompts).size, 4, 'every prompt differs');
  for (const [i, p] of prompts.entries()) {
    t.is(p, generatePrompt('messages about a fake prize', examples, 1, i));
    t.regex(p, /messages about a fake prize/);
    t.regex(p, /JSON array of 1 strings/);
    t.is((server.requests[i].body as { temperature: number }).temperature, 1);
  }
  const slot = (p: string, re: RegExp) => re.exec(p)?.[1];
  const persona = /write as ([^,]+), in/;
  const tone = /in a (\S+) tone/;
  const length = /each about ([^,]+), set/;
  const topic = /set in ([^.]+)\./;
  for (const re of [persona, tone, length, topic]) t.true(new Set(prompts.map((p) => slot(p, re))).size >= 2, `varies: ${String(re)}`);
  t.true(prompts[0].includes('"ex zero"') && !prompts[0].includes('"ex five"'));
  t.true(prompts[1].includes('"ex five"') && prompts[1].includes('"ex six"'));
  t.is(r.prompt, prompts[0]);
  const noShots = generatePrompt('d', [], 3, 0);
  t.false(noShots.includes('Examples of the kind'));
});

test('generateSeeds: stops at the max-requests cap when the model repeats itself', async (t) => {
  const server = await chatServer(t, () => chatAnswer('["same one", "same two"]'));
  const client = createChatClient({ model: 'w', baseUrl: server.baseUrl, concurrency: 2 });
  const r = await generateSeeds({ describe: 'x', n: 10, client, batchSize: 2, maxRequests: 5 });
  t.deepEqual([...r.texts].sort(), ['same one', 'same two']);
  t.is(r.requests, 5);
  t.is(server.requests.length, 5);
  t.is(r.dropped.duplicates, 8);
  t.is(r.parameters.maxRequests, 5);
});

test('generateSeeds: requests run concurrently under the client limit and stop near n', async (t) => {
  let inFlight = 0;
  let most = 0;
  let k = 0;
  const server = await chatServer(t, async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((res) => setTimeout(res, 30));
    inFlight--;
    k++;
    return chatAnswer(JSON.stringify([`text ${k} a`, `text ${k} b`]));
  });
  const client = createChatClient({ model: 'w', baseUrl: server.baseUrl, concurrency: 3 });
  const r = await generateSeeds({ describe: 'x', n: 30, client, batchSize: 2 });
  t.is(r.texts.length, 30);
  t.is(new Set(r.texts).size, 30);
  t.is(most, 3);
  t.is(r.requests, 15, 'no request beyond what the answers in flight could not cover');
  t.is(r.usage.promptTokens, 10 * r.requests);
  t.is(r.parameters.concurrency, 3);
});

test('generateSeeds: a request that fails for good rejects with its HttpError; the signal cancels', async (t) => {
  const server = await chatServer(t, () => chatAnswer('["a"]'));
  server.faults.push({ path: CHAT, status: 403, body: { error: { message: 'model not allowed' } } });
  const client = createChatClient({ model: 'w', baseUrl: server.baseUrl, concurrency: 1 });
  const e = await t.throwsAsync(generateSeeds({ describe: 'x', n: 5, client }), { instanceOf: HttpError });
  t.is(e?.status, 403);
  t.regex(e?.message ?? '', /model not allowed/);

  const slow = await chatServer(t, async () => {
    await new Promise((res) => setTimeout(res, 1500));
    return chatAnswer('["b"]');
  });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(new Error('cancelled by user')), 50);
  const t0 = Date.now();
  await t.throwsAsync(generateSeeds({ describe: 'x', n: 5, client: createChatClient({ model: 'w', baseUrl: slow.baseUrl }), signal: ctrl.signal }), { message: 'cancelled by user' });
  t.true(Date.now() - t0 < 1000, 'cancelled, not waited for');
});

test('generateSeeds: bad arguments are named', async (t) => {
  const client = createChatClient({ model: 'w', baseUrl: 'http://127.0.0.1:9/v1' });
  const arg = async (o: Partial<Parameters<typeof generateSeeds>[0]>) =>
    (await t.throwsAsync(generateSeeds({ describe: 'x', n: 3, client, ...o }), { instanceOf: InvalidArgumentError }))?.argument;
  t.is(await arg({ describe: '  ' }), '--describe');
  t.is(await arg({ n: 0 }), '--n');
  t.is(await arg({ n: 2.5 }), '--n');
  t.is(await arg({ batchSize: 0 }), 'batchSize');
  t.is(await arg({ maxRequests: -1 }), 'maxRequests');
  t.is(await arg({ dedupThreshold: 1.5 }), 'dedupThreshold');
  t.is(await arg({ concurrency: 0 }), 'concurrency');
});

// ---------------------------------------------------------------- synapse-g generate

async function runCli(args: string[]): Promise<void> {
  const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerGenerate(p);
  await p.parseAsync(['node', 'synapse-g', 'generate', ...args]);
}

test('CLI generate: writes seeds.jsonl atomically and a .meta.json sidecar', async (t) => {
  let i = 0;
  const server = await chatServer(t, () => {
    i++;
    return chatAnswer(JSON.stringify([`Congratulations, you won prize ${i}!`, `Claim reward ${i} now`, "I can't write more of these.", '']));
  });
  const dir = await tmp(t);
  const examples = path.join(dir, 'examples.txt');
  await fsp.writeFile(examples, 'You have won a car, send your card number\nClaim your gift card today\n');
  const out = path.join(dir, 'nested', 'seeds.jsonl');
  await runCli(['--describe', 'fake prize messages', '--examples', examples, '--n', '5', '--model', 'writer-1', '--base-url', server.baseUrl, '--concurrency', '1', '--batch-size', '4', '--embedder', 'none', '--out', out]);
  const lines = (await fsp.readFile(out, 'utf8')).split('\n');
  t.is(lines.pop(), '', 'ends with a newline');
  const texts = lines.map((l) => (JSON.parse(l) as { text: string }).text);
  t.deepEqual(texts, ['Congratulations, you won prize 1!', 'Claim reward 1 now', 'Congratulations, you won prize 2!', 'Claim reward 2 now', 'Congratulations, you won prize 3!']);
  t.deepEqual(Object.keys(JSON.parse(lines[0]) as object), ['text']);
  const meta = JSON.parse(await fsp.readFile(`${out}.meta.json`, 'utf8')) as Record<string, unknown> & {
    parameters: Record<string, unknown>;
    dropped: Record<string, number>;
    tokens: { prompt: number; completion: number };
  };
  t.is(meta.model, 'writer-1');
  t.is(meta.describe, 'fake prize messages');
  t.regex(meta.prompt as string, /fake prize messages[\s\S]*"You have won a car, send your card number"/);
  t.is(meta.examples, 2);
  t.is(meta.requested, 5);
  t.is(meta.kept, 5);
  t.is(meta.requests, 3);
  t.deepEqual(meta.dropped, { refusals: 3, empty: 3, duplicates: 0, nearDuplicates: 0, unparsable: 0 });
  t.deepEqual(meta.tokens, { prompt: 30, completion: 15 });
  t.is(meta.parameters.model, 'writer-1');
  t.is(meta.parameters.batchSize, 4);
  t.is(meta.parameters.embedder, null);
  t.true(Math.abs(Date.parse(meta.created as string) - Date.now()) < 60_000, 'dated');
  t.deepEqual((await fsp.readdir(path.dirname(out))).sort(), ['seeds.jsonl', 'seeds.jsonl.meta.json'], 'no temporary files left');
});

test('CLI generate: --examples from .csv (--text-column) and .jsonl (default column text)', async (t) => {
  const server = await chatServer(t, () => chatAnswer(JSON.stringify([`answer ${Math.random()}`])));
  const dir = await tmp(t);
  const csv = path.join(dir, 'ex.csv');
  await fsp.writeFile(csv, 'id,body\n1,"csv example, with a comma"\n2,another csv example\n');
  await runCli(['--describe', 'd', '--examples', csv, '--text-column', 'body', '--n', '1', '--model', 'w', '--base-url', server.baseUrl, '--embedder', 'none', '--out', path.join(dir, 'a.jsonl')]);
  t.is(server.requests.length, 1, 'n = 1 needs one request, whatever the concurrency');
  t.regex(lastChatMessage(server.requests[0]), /"csv example, with a comma"/);
  const jsonl = path.join(dir, 'ex.jsonl');
  await fsp.writeFile(jsonl, '{"text": "jsonl example"}\n');
  await runCli(['--describe', 'd', '--examples', jsonl, '--n', '1', '--model', 'w', '--base-url', server.baseUrl, '--embedder', 'none', '--out', path.join(dir, 'b.jsonl')]);
  t.regex(lastChatMessage(server.requests[1]), /"jsonl example"/);
  const meta = JSON.parse(await fsp.readFile(path.join(dir, 'b.jsonl.meta.json'), 'utf8')) as { examples: number };
  t.is(meta.examples, 1);
  const e = await t.throwsAsync(
    runCli(['--describe', 'd', '--examples', csv, '--text-column', 'nope', '--n', '1', '--model', 'w', '--base-url', server.baseUrl, '--embedder', 'none', '--out', path.join(dir, 'c.jsonl')]),
    { instanceOf: InvalidArgumentError },
  );
  t.is(e?.argument, '--text-column');
});

test('CLI generate: bad flags are named and nothing is written', async (t) => {
  const server = await chatServer(t, () => chatAnswer('["one"]'));
  const dir = await tmp(t);
  const out = path.join(dir, 'seeds.jsonl');
  const base = ['--describe', 'd', '--model', 'w', '--base-url', server.baseUrl, '--embedder', 'none', '--n', '1', '--out', out];
  const withFlag = (flag: string, value?: string) => {
    const args = [...base];
    const at = args.indexOf(flag);
    if (at < 0) return value === undefined ? args : [...args, flag, value];
    if (value === undefined) args.splice(at, 2);
    else args[at + 1] = value;
    return args;
  };
  const invalid = async (args: string[]) => (await t.throwsAsync(runCli(args), { instanceOf: InvalidArgumentError }))?.argument;
  t.is(await invalid(withFlag('--out', path.join(dir, 'seeds.txt'))), '--out');
  t.is(await invalid(withFlag('--describe', '   ')), '--describe');
  t.is(await invalid(withFlag('--model', ' ')), '--model');
  t.is(await invalid(withFlag('--base-url', 'not a url')), '--base-url');
  t.is(await invalid(withFlag('--embedder', 'bogus:thing')), '--embedder');
  t.is(await invalid(withFlag('--examples', path.join(dir, 'missing.txt'))), '--examples');
  t.is(await invalid(withFlag('--examples', path.join(dir, 'examples.docx'))), '--examples');
  t.is(await invalid(withFlag('--text-column', 'body')), '--text-column');

  const commander = async (args: string[], re: RegExp) => {
    const e = await t.throwsAsync(runCli(args), { instanceOf: CommanderError });
    t.regex(e?.message ?? '', re);
  };
  await commander(withFlag('--n', '0'), /--n must be a positive integer, got "0"/);
  await commander(withFlag('--concurrency', 'many'), /--concurrency must be a positive integer/);
  await commander(withFlag('--dedup', '1.5'), /--dedup must be a number in \[0, 1\]/);
  await commander(withFlag('--model'), /--model/);
  await commander(withFlag('--out'), /--out/);
  t.deepEqual(await fsp.readdir(dir), [], 'nothing written by a failed command');
  t.is(server.requests.length, 0, 'no request before the flags are valid');
});

test('CLI generate: a model that only refuses is an error and writes nothing', async (t) => {
  const server = await chatServer(t, () => chatAnswer("I'm sorry, I can't help with that."));
  const dir = await tmp(t);
  const out = path.join(dir, 'seeds.jsonl');
  const e = await t.throwsAsync(
    runCli(['--describe', 'd', '--model', 'w', '--base-url', server.baseUrl, '--embedder', 'none', '--n', '3', '--max-requests', '2', '--out', out]),
    { instanceOf: SynapseError },
  );
  t.is(e?.code, 'NOTHING_GENERATED');
  t.regex(e?.message ?? '', /no usable example in 2 requests \(dropped 2 refusals/);
  t.false(existsSync(out));
  t.false(existsSync(`${out}.meta.json`));
  t.is(server.requests.length, 2);
});
