import test, { type ExecutionContext } from 'ava';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createChatClient,
  createLlmOracle,
  extractJson,
  generateSeeds,
  HttpError,
  isRefusal,
  parseVerdict,
  SynapseError,
  type Embedder,
  type OracleItem,
} from '../src/index';
import { runChild } from './helpers/cli';
import { startOpenAIServer, type RecordedRequest } from './helpers/openai-server';
import { plantedFiles } from './helpers/planted-files';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-llm-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

const lastUser = (req: RecordedRequest): string => {
  const msgs = (req.body as { messages: { role: string; content: string }[] }).messages;
  return msgs[msgs.length - 1].content;
};
const chat = (content: string) => ({ body: { choices: [{ message: { role: 'assistant', content } }], usage: { prompt_tokens: 10, completion_tokens: 5 } } });

/** A rater: positive when the text says POS; a refusal for NEVER; malformed once for FLAKY. */
function rater() {
  const flaky = new Set<string>();
  return (req: RecordedRequest) => {
    const text = lastUser(req).split('Text:\n')[1] ?? '';
    if (text.includes('NEVER')) return chat("I'm sorry, I can't help with that.");
    if (text.includes('FLAKY') && !flaky.has(text)) {
      flaky.add(text);
      return chat('{"label": "posit');
    }
    const label = text.includes('POS') ? 'positive' : 'negative';
    return chat(`Sure! \`\`\`json\n{"label": "${label}", "confidence": ${text.includes('UNSURE') ? 0.4 : 0.9}, "rationale": "because",}\n\`\`\``);
  };
}

test('extractJson and parseVerdict read real-world model answers', (t) => {
  t.deepEqual(extractJson('```json\n{"a": [1, 2,],}\n```'), { a: [1, 2] });
  t.deepEqual(extractJson('Here you go: ["x", "y"] hope it helps'), ['x', 'y']);
  t.deepEqual(extractJson('{"s": "a } inside"}'), { s: 'a } inside' });
  t.is(extractJson('no json here'), undefined);
  t.deepEqual(parseVerdict('{"label":"Positive","confidence":"0.7","rationale":"r"}'), { label: true, confidence: 0.7, rationale: 'r' });
  t.is(parseVerdict('{"label":"maybe"}'), undefined);
  t.true(isRefusal("I'm sorry, but I can't"));
  t.false(isRefusal('Sorry seems to be the hardest word, great song'));
});

test('LLM oracle: retries 429/500/timeouts and malformed JSON, caches verdicts, never invents a label', async (t) => {
  const server = await startOpenAIServer({ routes: { '/v1/chat/completions': rater() } });
  t.teardown(() => server.close());
  const dir = await tmp(t);
  const client = createChatClient({ model: 'rater-1', baseUrl: server.baseUrl, apiKey: 'sk-test-123456', timeoutMs: 300, baseDelayMs: 5, concurrency: 2 });
  server.faults.push({ path: '/v1/chat/completions', status: 429, headers: { 'retry-after': '0' } }, { path: '/v1/chat/completions', status: 500 }, { path: '/v1/chat/completions', delayMs: 700 });
  const oracle = createLlmOracle({ client, rubric: 'Positive means the text says POS.', cacheDir: dir });
  const items: OracleItem[] = ['a POS one', 'a plain one', 'POS but FLAKY', 'UNSURE POS'].map((text, row) => ({ row, id: `r${row}`, text }));
  const answered: [string, boolean | undefined][] = [];
  const labels = await oracle.label(items, { onAnswer: async (it, l) => void answered.push([it.id, l]) });
  t.deepEqual(labels, [true, false, true, true]);
  t.is(answered.length, 4, 'every verdict reported as it came');
  const s = oracle.stats();
  t.is(s.malformed, 1);
  t.deepEqual(s.lowConfidence, ['r3']);
  t.true(s.requests >= 8, `retries counted: ${s.requests}`);
  t.true(s.promptTokens >= 50);
  // A second oracle over the same cache asks nothing.
  const before = server.requests.length;
  const again = createLlmOracle({ client, rubric: 'Positive means the text says POS.', cacheDir: dir });
  t.deepEqual(await again.label(items), [true, false, true, true]);
  t.is(server.requests.length, before);
  t.is(again.stats().cacheHits, 4);
  // A row the model refuses stays unlabeled: the batch fails naming it, the others are delivered.
  const got: string[] = [];
  const err = await t.throwsAsync(
    oracle.label([{ row: 9, id: 'r9', text: 'NEVER' }, { row: 10, id: 'r10', text: 'new POS' }], { onAnswer: async (it) => void got.push(it.id) }),
    { instanceOf: SynapseError },
  );
  t.regex(err?.message ?? '', /no valid verdict for 1 row\(s\).*r9.*--resume/);
  t.deepEqual(got, ['r10']);
  t.deepEqual(oracle.stats().unlabeled, ['r9']);
  // Other 4xx: a clear error, key redacted.
  server.faults.push({ path: '/v1/chat/completions', status: 401, body: { error: { message: 'bad key sk-test-123456' } } });
  const e401 = await t.throwsAsync(client.complete([{ role: 'user', content: 'x' }]), { instanceOf: HttpError });
  t.false(e401?.message.includes('sk-test-123456'));
});

test('LLM oracle: low-confidence verdicts go to the reviewer, whose answers win and are journaled', async (t) => {
  const server = await startOpenAIServer({ routes: { '/v1/chat/completions': rater() } });
  t.teardown(() => server.close());
  const dir = await tmp(t);
  const asked: string[] = [];
  // The reviewer: a person who disagrees with the model on the unsure row.
  const person = {
    name: 'person',
    label: (items: readonly OracleItem[]) => {
      asked.push(...items.map((i) => i.id));
      return Promise.resolve(items.map(() => false));
    },
  };
  const client = createChatClient({ model: 'rater-2', baseUrl: server.baseUrl, baseDelayMs: 5 });
  const oracle = createLlmOracle({ client, rubric: 'POS is positive', cacheDir: dir, minConfidence: 0.6, reviewer: person });
  const journaled: [string, boolean | undefined][] = [];
  const labels = await oracle.label(
    ['a POS', 'UNSURE POS', 'plain'].map((text, row) => ({ row, id: `r${row}`, text })),
    { onAnswer: async (it, l) => void journaled.push([it.id, l]) },
  );
  t.deepEqual(labels, [true, false, false], 'the reviewer overrides the unsure verdict');
  t.deepEqual(asked, ['r1']);
  t.is(oracle.stats().reviewed, 1);
  t.deepEqual(journaled.map((j) => j[0]).sort(), ['r0', 'r2'], 'model verdicts are journaled as they come');
});

test('generate: drops refusals, empties, duplicates and near-duplicates', async (t) => {
  let i = 0;
  const server = await startOpenAIServer({
    routes: {
      '/v1/chat/completions': () => {
        i++;
        if (i === 2) return chat("I'm sorry, I can't write that.");
        if (i === 3) return chat('not json at all');
        return chat(JSON.stringify([`scam ${i} a`, `scam ${i} b`, '', 'same every time', `SCAM ${i} A!`, "As an AI, I won't"]));
      },
    },
  });
  t.teardown(() => server.close());
  // An embedder where texts equal up to case and punctuation share a vector (near-duplicates).
  const embedder: Embedder = {
    modelId: 'letters',
    dim: 8,
    embed(texts) {
      const out = new Float32Array(texts.length * 8);
      texts.forEach((x, r) => {
        const key = x.toLowerCase().replace(/[^a-z0-9 ]/g, '');
        let h = 7;
        for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
        for (let j = 0; j < 8; j++) out[r * 8 + j] = ((h >>> (j * 4)) & 15) - 7.5;
        let n = 0;
        for (let j = 0; j < 8; j++) n += out[r * 8 + j] ** 2;
        for (let j = 0; j < 8; j++) out[r * 8 + j] /= Math.sqrt(n);
      });
      return Promise.resolve(out);
    },
  };
  const client = createChatClient({ model: 'writer', baseUrl: server.baseUrl, baseDelayMs: 5 });
  const r = await generateSeeds({ describe: 'a new kind of scam', n: 5, client, embedder, perRequest: 6, concurrency: 1 });
  t.is(r.texts.length, 5);
  t.is(new Set(r.texts).size, 5);
  for (const x of r.texts) t.false(isRefusal(x));
  t.true(r.dropped.refusals >= 2, JSON.stringify(r.dropped));
  t.true(r.dropped.empty >= 1);
  t.true(r.dropped.duplicates >= 1);
  t.true(r.dropped.nearDuplicates >= 1);
  t.is(r.dropped.unparsable, 1);
  t.regex(r.prompt, /a new kind of scam/);
  await t.throwsAsync(generateSeeds({ describe: ' ', n: 5, client }), { message: /^--describe: is empty/ });
});

test('CLI: mine --oracle llm:MODEL (journaled, stats in the report) and generate --out seeds.jsonl', async (t) => {
  const server = await startOpenAIServer({ routes: { '/v1/chat/completions': rater() } });
  t.teardown(() => server.close());
  const dir = await tmp(t);
  const { args: files } = await plantedFiles(dir, { rows: 300, positives: 30, seeds: 8, seed: 4, text: (i, pos) => `row ${i} ${pos ? 'POS' : 'NEG'}`, labelColumn: false });
  const env = { OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: '', SYNAPSE_G_CACHE_DIR: path.join(dir, 'cache') };
  const out = path.join(dir, 'run');
  const r = await runChild(['mine', ...files, '--oracle', 'llm:rater-1', '--describe', 'Positive means the text says POS.', '--method', 'nn', '--max-queries', '20', '--out', out], env);
  t.is(r.code, 0, r.stderr);
  const labeled = (await fsp.readFile(path.join(out, 'labeled.csv'), 'utf8')).trim().split('\n').filter((l) => l.endsWith(',oracle'));
  t.is(labeled.length, 20);
  for (const l of labeled) t.true(l.includes(l.includes('POS') ? ',positive,' : ',negative,'), l);
  t.regex(await fsp.readFile(path.join(out, 'report.html'), 'utf8'), /LLM oracle: \d+ requests, \d+ prompt \+ \d+ completion tokens/);
  const noRubric = await runChild(['mine', ...files, '--oracle', 'llm:x', '--out', path.join(dir, 'x')], env);
  t.is(noRubric.code, 1);
  t.regex(noRubric.stderr, /--rubric: --oracle llm:MODEL needs --rubric FILE or --describe/);

  let n = 0;
  server.close();
  const gen = await startOpenAIServer({ routes: { '/v1/chat/completions': () => chat(JSON.stringify([`fake prize ${n++}`, `fake prize ${n++}`])) } });
  t.teardown(() => gen.close());
  const seeds = path.join(dir, 'seeds.jsonl');
  const g = await runChild(['generate', '--describe', 'prize scams', '--n', '6', '--model', 'writer', '--embedder', 'none', '--out', seeds], { ...env, OPENAI_BASE_URL: gen.baseUrl });
  t.is(g.code, 0, g.stderr);
  const lines = (await fsp.readFile(seeds, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  t.is(lines.length, 6);
  const meta = JSON.parse(await fsp.readFile(`${seeds}.meta.json`, 'utf8')) as { parameters: { model: string }; kept: number; prompt: string };
  t.is(meta.parameters.model, 'writer');
  t.is(meta.kept, 6);
  t.regex(meta.prompt, /prize scams/);
  const bad = await runChild(['generate', '--describe', 'x', '--model', 'w', '--out', path.join(dir, 'seeds.txt')], env);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--out: must be a \.jsonl path/);
  t.false(existsSync(path.join(dir, 'seeds.txt.meta.json')));
});
