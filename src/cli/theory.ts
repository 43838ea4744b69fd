/**
 * `synapse-g theory`: Proposition 1's expected precision and recall of one seed → neighbour round.
 * Give p, q1, q2, d, h, |S| and |V| directly, or give the corpus and seeds (as for `mine`) and let
 * d, h(S₊), |S|, |V| and, with `--oracle`, q1 and q2 be estimated from the seeds' graph.
 */
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../errors';
import { estimateTheoryInputs, proposition1, type TheoryEstimate, type TheoryInput } from '../theory';
import { defaultParamsFor } from '../defaults';
import { intFlag, numberFlag, positiveIntFlag } from './flags';
import { loadMiningInputs, type InputFlags } from './inputs';

/** Flags of `theory`. */
export interface TheoryFlags extends Partial<InputFlags> {
  p: number;
  q1?: number;
  q2?: number;
  d?: number;
  h?: number;
  vertices?: number;
  tau?: number;
  dmax?: number;
  json?: boolean;
}

/** Run `theory`; resolves to the inputs used and the result. */
export async function runTheory(flags: TheoryFlags, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr) {
  let estimate: TheoryEstimate | undefined;
  let seeds = flags.numSeeds;
  let vertices = flags.vertices;
  const source: Record<string, string> = {};
  if (flags.corpus !== undefined || flags.seeds !== undefined) {
    if (flags.corpus === undefined || flags.seeds === undefined || flags.textColumn === undefined) {
      throw new InvalidArgumentError(flags.corpus === undefined ? '--corpus' : flags.seeds === undefined ? '--seeds' : '--text-column', 'estimating from data needs --corpus, --seeds and --text-column');
    }
    const inputs = await loadMiningInputs(
      {
        seedSelection: 'random',
        numSeeds: 100,
        coverage: 0.5,
        embedder: 'default',
        seed: 0,
        ...flags,
      } as InputFlags,
      (m) => stderr.write(`synapse-g: ${m}\n`),
    );
    const defaults = defaultParamsFor(inputs.embedderId === 'precomputed vectors' ? undefined : flags.embedder ?? 'default', 'bipartite');
    const tau = flags.tau ?? defaults.tau;
    const dmax = flags.dmax ?? defaults.dmax;
    estimate = await estimateTheoryInputs(inputs.corpus, inputs.seeds, { tau, dmax, labels: inputs.groundTruth });
    seeds = inputs.seeds.rows;
    vertices = inputs.corpus.rows;
    for (const k of ['d', 'h', 'q1', 'q2'] as const) source[k] = `estimated (τ ${tau}, d_max ${dmax})`;
    source.seeds = 'selected seeds';
    source.vertices = 'corpus rows';
  }
  const pick = (k: 'd' | 'h' | 'q1' | 'q2'): number | undefined => {
    if (flags[k] !== undefined) {
      source[k] = 'given';
      return flags[k];
    }
    return estimate?.[k];
  };
  const q1 = pick('q1');
  let q2 = pick('q2');
  if (q1 === undefined) {
    throw new InvalidArgumentError('--q1', 'is needed (or give --corpus/--seeds with --oracle to estimate it from labels)');
  }
  if (q2 === undefined) {
    q2 = 2 * q1 - q1 * q1;
    source.q2 = 'from q1, as independent links: 2·q1 − q1²';
  }
  const d = pick('d');
  const h = pick('h');
  if (d === undefined) throw new InvalidArgumentError('--d', 'is needed (or give --corpus and --seeds to estimate it)');
  if (h === undefined) throw new InvalidArgumentError('--h', 'is needed (or give --corpus and --seeds to estimate it)');
  if (seeds === undefined) throw new InvalidArgumentError('--num-seeds', 'is needed (|S|)');
  if (vertices === undefined) throw new InvalidArgumentError('--corpus-size', 'is needed (|V|)');
  const input: TheoryInput = { p: flags.p, q1, q2, d, h, seeds, vertices };
  source.p = flags.p === 1 ? 'default (every seed valid)' : 'given';
  const result = proposition1(input);
  if (flags.json) {
    stdout.write(`${JSON.stringify({ input, source, estimate, result }, null, 2)}\n`);
  } else {
    const rows: [string, string, string][] = [
      ['p (validity)', input.p.toFixed(4), source.p],
      ['q1', q1.toFixed(4), source.q1 ?? ''],
      ['q2', q2.toFixed(4), source.q2 ?? ''],
      ['d', d.toFixed(2), source.d ?? ''],
      ['h(S+)', h.toFixed(3), source.h ?? ''],
      ['|S|', String(seeds), source.seeds ?? 'given'],
      ['|V|', String(vertices), source.vertices ?? 'given'],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    stdout.write(`Proposition 1 (one round: query S ∪ N(S+))\n\n${rows.map((r) => `  ${r[0].padEnd(w)}  ${r[1].padStart(10)}  ${r[2]}`).join('\n')}\n\n`);
    stdout.write(
      `  expected precision E[P/|Q|]   ${result.precision.toFixed(4)}\n  expected recall    E[P/|V|]   ${result.recall.toFixed(6)}\n` +
        `  expected positives E[P]       ${result.positives.toFixed(1)} of |Q| = ${result.queried.toFixed(1)} queried\n` +
        `  validity threshold p*         ${result.threshold.toFixed(4)}: ${result.regime === 'high' ? 'p > p*, more diverse seeds would lower precision (and raise recall)' : 'p < p*, more diverse seeds would raise precision and recall'}\n`,
    );
    if (estimate) {
      stdout.write(`\n  corpus rows adjacent to one seed: ${estimate.adjacentToOne}, to two or more: ${estimate.adjacentToTwoOrMore}\n`);
      if (estimate.measuredPrecision !== undefined) {
        stdout.write(`  measured precision of S ∪ N(S) on this data (seeds counted positive): ${estimate.measuredPrecision.toFixed(4)}\n`);
      }
    }
    for (const wmsg of result.warnings) stdout.write(`  warning: ${wmsg}\n`);
  }
  return { input, result, estimate };
}

/** Register `theory` on `program`. */
export function registerTheory(program: Command): void {
  program
    .command('theory')
    .description("Proposition 1 of the paper: expected precision and recall of one seed → neighbour round, from p, q1, q2, d, h(S+) (estimated from data where not given).")
    .option('--p <p>', 'validity: share of synthetic seeds that are truly positive', numberFlag('--p', 0, 1, true), 1)
    .option('--q1 <q>', 'P(positive) for a row adjacent to exactly one positive seed', numberFlag('--q1', 0, 1))
    .option('--q2 <q>', 'P(positive) for a row adjacent to two (default 2·q1 − q1²)', numberFlag('--q2', 0, 1))
    .option('--d <d>', 'graph degree', numberFlag('--d', 0, 1e9))
    .option('--h <h>', 'vertex expansion h(S+) = |N(S+)| / |S+|', numberFlag('--h', 1, 1e9))
    .option('--num-seeds <n>', '|S|, seeds (selected from --seeds when given)', positiveIntFlag('--num-seeds'))
    .option('--corpus-size <n>', '|V|, corpus rows (counted from --corpus when given)', positiveIntFlag('--corpus-size'))
    .option('--corpus <file>', 'estimate from this corpus (as for mine)')
    .option('--text-column <name>', 'text column of --corpus and --seeds')
    .option('--id-column <name>', 'id column of --corpus')
    .option('--seeds <file>', 'synthetic seeds (as for mine)')
    .option('--seed-text-column <name>', 'text column of --seeds')
    .addOption(new Option('--seed-selection <how>', 'how seeds are picked').choices(['random', 'acs']).default('random'))
    .option('--embedder <spec>', 'default | hf:DIR | openai:MODEL', 'default')
    .option('--corpus-vectors <file>', 'precomputed corpus vectors')
    .option('--seed-vectors <file>', 'precomputed seed vectors')
    .option('--oracle <spec>', 'column:NAME=VALUE: lets q1 and q2 be estimated from labels')
    .option('--tau <t>', 'similarity threshold of the seeds\' graph (default: per embedder)', numberFlag('--tau', -1, 1))
    .option('--dmax <n>', 'neighbours per seed (default: per embedder)', positiveIntFlag('--dmax'))
    .option('--seed <int>', 'random seed for seed selection', intFlag('--seed'), 0)
    .option('--json', 'print JSON')
    .action(async (opts: TheoryFlags & { corpusSize?: number }) => {
      await runTheory({ ...opts, vertices: opts.corpusSize });
    });
}
