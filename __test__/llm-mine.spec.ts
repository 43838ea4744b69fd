import test, { type ExecutionContext } from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createChatClient, createLlmOracle, type OracleItem } from '../src/index';
import { runChild } from './helpers/cli';
import { chatAnswer, lastChatMessage, startOpenAIServer, type RecordedRequest } from './helpers/openai-server';
import { plantedFiles } from './helpers/planted-files';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-llm-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

const lastUser = lastChatMessage;
const chat = (content: string) => chatAnswer(content);

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

test('CLI: mine --oracle llm:MODEL (answers journaled, stats in the report)', async (t) => {
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

});
