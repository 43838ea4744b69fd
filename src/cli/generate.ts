/**
 * `synapse-g generate`: LLM-written examples of the rare event (the synthetic seeds), one
 * `{"text": ...}` per line, with a `.meta.json` sidecar recording the prompt, model and counts.
 */
import { Command } from 'commander';
import { resolveEmbedder } from '../embed/index';
import type { Embedder } from '../embed/embedder';
import { InvalidArgumentError } from '../errors';
import { readTable } from '../io/table';
import { createChatClient } from '../llm/chat';
import { generateSeeds } from '../llm/generate';
import { writeFileAtomic } from '../util/atomic';
import { createProgressBar } from '../util/progress';
import { numberFlag, positiveIntFlag } from './flags';

interface GenerateFlags {
  describe: string;
  examples?: string;
  textColumn?: string;
  n: number;
  model: string;
  baseUrl?: string;
  concurrency: number;
  embedder: string;
  dedup: number;
  out: string;
  progress?: boolean;
}

/** Run `generate`. */
export async function runGenerate(flags: GenerateFlags, stderr: NodeJS.WriteStream = process.stderr) {
  if (!flags.out.toLowerCase().endsWith('.jsonl')) throw new InvalidArgumentError('--out', `must be a .jsonl path, got ${JSON.stringify(flags.out)}`);
  const examples = flags.examples === undefined ? [] : (await readTable(flags.examples, { flag: '--examples', textColumn: flags.textColumn, requireUniqueIds: false, emptyTexts: 'skip' })).texts;
  const client = createChatClient({ model: flags.model, baseUrl: flags.baseUrl, concurrency: flags.concurrency });
  let embedder: Embedder | undefined;
  if (flags.embedder !== 'none') embedder = await resolveEmbedder(flags.embedder, { argument: '--embedder' });
  const bar = createProgressBar(flags.n, { label: 'generating', unit: 'examples', stream: stderr, force: Boolean(flags.progress) });
  try {
    const r = await generateSeeds({ describe: flags.describe, examples, n: flags.n, client, embedder, dedupThreshold: flags.dedup, concurrency: flags.concurrency, onProgress: (k) => bar.update(k) });
    bar.stop();
    await writeFileAtomic(flags.out, r.texts.map((text) => `${JSON.stringify({ text })}\n`).join(''));
    const stats = client.stats();
    await writeFileAtomic(
      `${flags.out}.meta.json`,
      `${JSON.stringify({ describe: flags.describe, examples: examples.length, prompt: r.prompt, parameters: r.parameters, kept: r.texts.length, dropped: r.dropped, requests: stats.requests, tokens: { prompt: stats.promptTokens, completion: stats.completionTokens }, created: new Date().toISOString() }, null, 2)}\n`,
    );
    stderr.write(
      `synapse-g: wrote ${r.texts.length} examples to ${flags.out} (${stats.requests} requests; dropped ${r.dropped.refusals} refusals, ${r.dropped.empty} empty, ${r.dropped.duplicates} duplicates, ${r.dropped.nearDuplicates} near-duplicates, ${r.dropped.unparsable} unparsable answers)\n`,
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
    .option('--text-column <name>', 'text column of --examples (not for .txt)')
    .option('--n <count>', 'examples wanted', positiveIntFlag('--n'), 1000)
    .requiredOption('--model <name>', 'chat model')
    .option('--base-url <url>', 'OpenAI-compatible base URL (default $OPENAI_BASE_URL; key from $OPENAI_API_KEY)')
    .option('--concurrency <n>', 'requests in flight', positiveIntFlag('--concurrency'), 4)
    .option('--embedder <spec>', 'embedder for near-duplicate removal: default | hf:DIR | openai:MODEL | none', 'default')
    .option('--dedup <cosine>', 'near-duplicate threshold', numberFlag('--dedup', 0, 1), 0.95)
    .requiredOption('--out <file.jsonl>', 'where to write the examples')
    .option('--progress', 'draw the progress bar even when stderr is not a terminal')
    .action(async (opts: GenerateFlags) => {
      await runGenerate(opts);
    });
}
