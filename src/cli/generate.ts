/**
 * `synapse-g generate`: LLM-written examples of the rare event (the synthetic seeds), one
 * `{"text": ...}` per line, written atomically, with a `.meta.json` sidecar recording the
 * prompt, model, parameters, counts and date.
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import type { Embedder } from '../embed/embedder';
import { resolveEmbedder } from '../embed/index';
import { InvalidArgumentError, SynapseError } from '../errors';
import { readTable } from '../io/table';
import { createChatClient, type ChatClient } from '../llm/chat';
import { generateSeeds, type GenerateResult } from '../llm/generate';
import { writeFileAtomic } from '../util/atomic';
import { createProgressBar } from '../util/progress';
import { numberFlag, positiveIntFlag } from './flags';

/** Parsed flags of `generate`. */
export interface GenerateFlags {
  describe: string;
  examples?: string;
  textColumn?: string;
  n: number;
  model: string;
  baseUrl?: string;
  concurrency: number;
  batchSize?: number;
  maxRequests?: number;
  embedder: string;
  dedup: number;
  out: string;
  progress?: boolean;
}

const CLIENT_FLAGS: Record<string, string> = { baseUrl: '--base-url', model: '--model', concurrency: '--concurrency' };

/** Run `generate`. */
export async function runGenerate(flags: GenerateFlags, stderr: NodeJS.WriteStream = process.stderr): Promise<GenerateResult> {
  if (typeof flags.describe !== 'string' || flags.describe.trim() === '') throw new InvalidArgumentError('--describe', 'is empty: describe the rare event');
  if (typeof flags.model !== 'string' || flags.model.trim() === '') throw new InvalidArgumentError('--model', 'is empty: name the chat model');
  if (typeof flags.out !== 'string' || !flags.out.toLowerCase().endsWith('.jsonl')) {
    throw new InvalidArgumentError('--out', `must be a .jsonl path, got ${JSON.stringify(flags.out)}`);
  }
  if (flags.textColumn !== undefined && flags.examples === undefined) throw new InvalidArgumentError('--text-column', 'is for --examples; give --examples FILE too');
  const examples =
    flags.examples === undefined
      ? []
      : (
          await readTable(flags.examples, {
            flag: '--examples',
            // .csv/.tsv/.jsonl examples: the `text` column unless --text-column names another
            textColumn: flags.textColumn ?? (path.extname(flags.examples).toLowerCase() === '.txt' ? undefined : 'text'),
            requireUniqueIds: false,
            emptyTexts: 'skip',
          })
        ).texts;
  let client: ChatClient;
  try {
    client = createChatClient({ model: flags.model, baseUrl: flags.baseUrl, concurrency: flags.concurrency });
  } catch (e) {
    const flag = e instanceof InvalidArgumentError ? CLIENT_FLAGS[e.argument] : undefined;
    if (flag && e instanceof InvalidArgumentError) throw new InvalidArgumentError(flag, e.message.slice(e.argument.length + 2), { cause: e });
    throw e;
  }
  let embedder: Embedder | undefined;
  if (flags.embedder !== 'none') embedder = await resolveEmbedder(flags.embedder, { argument: '--embedder' });
  const bar = createProgressBar(flags.n, { label: 'generating', unit: 'examples', stream: stderr, force: Boolean(flags.progress) });
  try {
    const r = await generateSeeds({
      describe: flags.describe,
      examples,
      n: flags.n,
      client,
      embedder,
      dedupThreshold: flags.dedup,
      batchSize: flags.batchSize,
      maxRequests: flags.maxRequests,
      concurrency: flags.concurrency,
      onProgress: (k) => bar.update(k),
    });
    bar.stop();
    if (r.texts.length === 0) {
      throw new SynapseError(
        `generate: the model gave no usable example in ${r.requests} requests (dropped ${r.dropped.refusals} refusals, ${r.dropped.empty} empty, ${r.dropped.duplicates} duplicates, ${r.dropped.nearDuplicates} near-duplicates, ${r.dropped.unparsable} unparsable answers); nothing written to ${flags.out}`,
        'NOTHING_GENERATED',
      );
    }
    await writeFileAtomic(flags.out, r.texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
    const stats = client.stats();
    const meta = {
      describe: flags.describe,
      model: client.model,
      baseUrl: client.baseUrl.replace(/\/\/[^@/]*@/, '//'),
      examples: examples.length,
      prompt: r.prompt,
      parameters: r.parameters,
      requested: flags.n,
      kept: r.texts.length,
      dropped: r.dropped,
      requests: r.requests,
      httpRequests: stats.requests,
      tokens: { prompt: r.usage.promptTokens, completion: r.usage.completionTokens },
      created: new Date().toISOString(),
    };
    await writeFileAtomic(`${flags.out}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
    stderr.write(
      `synapse-g: wrote ${r.texts.length} examples to ${flags.out} (${r.requests} requests; dropped ${r.dropped.refusals} refusals, ${r.dropped.empty} empty, ${r.dropped.duplicates} duplicates, ${r.dropped.nearDuplicates} near-duplicates, ${r.dropped.unparsable} unparsable answers)\n`,
    );
    if (r.texts.length < flags.n) stderr.write(`synapse-g: warning: only ${r.texts.length} of ${flags.n} examples after ${r.requests} requests\n`);
    return r;
  } finally {
    bar.stop();
    await embedder?.close?.();
  }
}

/** Register `generate`. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Ask an OpenAI-compatible chat model for diverse examples of the rare event (the synthetic seeds).')
    .requiredOption('--describe <text>', 'the rare event, in words')
    .option('--examples <file>', 'a few examples to imitate (.txt, .csv, .tsv, .jsonl)')
    .option('--text-column <name>', 'text column of --examples (not for .txt; default text)')
    .option('--n <count>', 'examples wanted', positiveIntFlag('--n'), 1000)
    .requiredOption('--model <name>', 'chat model')
    .option('--base-url <url>', 'OpenAI-compatible base URL (default $OPENAI_BASE_URL; key from $OPENAI_API_KEY)')
    .option('--concurrency <n>', 'requests in flight', positiveIntFlag('--concurrency'), 4)
    .option('--batch-size <n>', 'examples asked for per request', positiveIntFlag('--batch-size'), 10)
    .option('--max-requests <n>', 'give up after this many requests (default 3 × n / batch size + 3)', positiveIntFlag('--max-requests'))
    .option('--embedder <spec>', 'embedder for near-duplicate removal: default | hf:DIR | openai:MODEL | none', 'default')
    .option('--dedup <cosine>', 'near-duplicate threshold (cosine)', numberFlag('--dedup', 0, 1), 0.95)
    .requiredOption('--out <file.jsonl>', 'where to write the examples')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .action(async (opts: GenerateFlags) => {
      await runGenerate(opts);
    });
}
