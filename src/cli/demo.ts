/**
 * `synapse-g demo`: mine the example data shipped in data/demo/ (4,000 SST-2 reviews, 10 %
 * positive; 500 LLM-written positive reviews as seeds; Apache-2.0) with the offline default
 * embedder and the ground-truth label column as the oracle, and print where the report is.
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { MINING_METHODS, type MiningMethod } from '../strategies/index';
import { intFlag } from './flags';
import { runMine } from './mine';

/** The shipped demo data folder. */
export const DEMO_DIR = path.join(__dirname, '..', '..', 'data', 'demo');

/** Register `demo` on `program`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Mine the shipped example data (SST-2 reviews, positives as the rare event) and write a report.')
    .addOption(new Option('--method <name>', 'mining method').choices([...MINING_METHODS]).default('auto'))
    .option('--out <dir>', 'output folder (an earlier demo output there is replaced)', 'synapse-g-demo')
    .option('--seed <int>', 'random seed', intFlag('--seed'), 0)
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .action(async (opts: { method: MiningMethod; out: string; seed: number; progress?: boolean }) => {
      await runMine({
        corpus: path.join(DEMO_DIR, 'corpus.csv'),
        textColumn: 'text',
        idColumn: 'id',
        seeds: path.join(DEMO_DIR, 'seeds.txt'),
        seedSelection: 'acs',
        numSeeds: 100,
        coverage: 0.5,
        embedder: 'default',
        oracle: 'column:label=positive',
        method: opts.method,
        seed: opts.seed,
        out: opts.out,
        // Replace an earlier demo's output, never an unrelated folder.
        force: existsSync(path.join(opts.out, 'run.json')),
        progress: opts.progress,
      });
    });
}
