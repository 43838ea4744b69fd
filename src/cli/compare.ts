/**
 * `synapse-g compare`: run several methods on one corpus, with the same seeds, over one or more
 * seed draws, and overlay their curves (recall band over draws) in one report.
 */
import { Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import { InvalidArgumentError } from '../errors';
import * as path from 'node:path';
import type { MetricsRow } from '../metrics';
import type { MineResult } from '../mine';
import type { ReportCurve } from '../report/index';
import { recallBand, summary, valueAt } from '../spread';
import { isMiningMethod, MINING_METHODS, type MiningMethod } from '../strategies/index';
import { writeDirAtomic } from '../util/atomic';
import { positiveIntFlag } from './flags';
import { loadMiningInputs, pickSeeds, type InputFlags, type Say } from './inputs';
import { addInputOptions, addMethodOptions, methodParamsFromFlags, nothingMinedError, runMethod, type MethodFlags } from './mine';
import { formatMetricsTable, runParameters, writeMetricsCsv, writeRunSummary } from './outputs';

/** Flags of `compare`. */
export interface CompareFlags extends InputFlags, MethodFlags {
  methods: MiningMethod[];
  draws: number;
}

function methodsFlag(value: string): MiningMethod[] {
  const ms = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ms.filter((m) => !isMiningMethod(m));
  if (ms.length === 0 || bad.length > 0) {
    throw new CommanderArgumentError(`--methods: unknown method(s) ${bad.map((b) => JSON.stringify(b)).join(', ') || '(none given)'}; choose from ${MINING_METHODS.join(', ')}`);
  }
  return [...new Set(ms)] as MiningMethod[];
}

/** Run `compare`. */
export async function runCompare(
  flags: CompareFlags,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<{ results: MineResult[][]; report: string }> {
  const say: Say = (m) => {
    if (!flags.quiet) stderr.write(`synapse-g: ${m}\n`);
  };
  if (flags.oracle?.startsWith('human')) {
    throw new InvalidArgumentError('--oracle', 'compare asks every query of every method and draw; use a column oracle here, and `mine --oracle human` for one method');
  }
  const embedder = flags.corpusVectors !== undefined ? undefined : flags.embedder;
  const params = flags.methods.map((m) => methodParamsFromFlags(flags, embedder, m));
  return writeDirAtomic(
    flags.out,
    async (dir) => {
      // results[m][d]: method m, draw d (seed = --seed + d; seed selection redone per draw).
      const results: MineResult[][] = flags.methods.map(() => []);
      let inputs = await loadMiningInputs(flags, say, stderr);
      const parameters = runParameters({ ...flags, methods: flags.methods.join(',') }, inputs);
      flags.methods.forEach((m, i) => {
        const p = params[i];
        parameters[`${m} parameters`] = `τ ${p.tau}, d_max ${p.dmax}, K0 ${p.k0}, T ${p.iterations}, negative ${p.negativeLabel}${p.budget !== undefined ? `, B ${p.budget}` : ''}`;
      });
      const timings: Record<string, number> = { ...inputs.timings };
      for (let d = 0; d < flags.draws; d++) {
        if (d > 0) {
          // Same vectors, a new seed draw: reuse the loaded tables and matrices.
          inputs = await pickSeeds(inputs, { ...flags, seed: flags.seed + d }, say);
        }
        for (let m = 0; m < flags.methods.length; m++) {
          const r = await runMethod(flags.methods[m], inputs, { ...flags, seed: flags.seed + d }, params[m], say, stderr);
          if (r.metrics.length === 0 && flags.draws === 1) throw nothingMinedError(flags.methods[m], r);
          say(`${flags.methods[m]} (draw ${d + 1}/${flags.draws}): stopped: ${r.stopReason}`);
          results[m].push(r);
          timings[flags.methods[m]] = (timings[flags.methods[m]] ?? 0) + r.timings.prepare + r.timings.rounds;
        }
      }
      const rows: (MetricsRow & { method: string })[] = [];
      const curves: ReportCurve[] = [];
      const notes: string[] = [];
      for (let m = 0; m < flags.methods.length; m++) {
        const method = flags.methods[m];
        for (const r of results[m]) rows.push(...r.metrics.map((x) => ({ ...x, method })));
        curves.push({
          label: `${method} (${flags.seedSelection} seeds)`,
          rows: results[m][0].metrics,
          ...(flags.draws > 1 ? { recallBand: recallBand(results[m].map((r) => r.metrics)) } : {}),
        });
        const top = Math.max(...results[m].map((r) => (r.metrics.length ? r.metrics[r.metrics.length - 1].query_ratio : 0)));
        const at = [0.024, 0.05, 0.1].filter((q) => q <= top + 1e-9);
        if (flags.draws > 1 && at.length > 0) {
          notes.push(
            `${method}: recall over ${flags.draws} seed draws (mean ± std) at query ratio ` +
              at.map((q) => {
                const s = summary(results[m].map((r) => valueAt(r.metrics, q)));
                return `${(100 * q).toFixed(1)}%: ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
              }).join(', '),
          );
        }
        notes.push(...results[m][0].notes);
      }
      await writeMetricsCsv(path.join(dir, 'metrics.csv'), rows, true);
      await writeRunSummary(dir, `synapse-g compare on ${path.basename(flags.corpus)}`, parameters, timings, results.flat(), curves, notes);
      for (let m = 0; m < flags.methods.length; m++) {
        stdout.write(`== ${flags.methods[m]}\n${formatMetricsTable(results[m][0].metrics)}\n\n`);
      }
      for (const n of notes) stdout.write(`${n}\n`);
      const report = path.join(path.resolve(flags.out), 'report.html');
      stdout.write(`report: ${report}\n`);
      return { results, report };
    },
    { replace: flags.force, flag: '--out' },
  );
}

/** Register `compare` on `program`. */
export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('Run several methods on one corpus with the same seeds and overlay their curves in one report.');
  addInputOptions(cmd);
  cmd
    .option('--methods <list>', `comma-separated methods (${MINING_METHODS.join(', ')})`, methodsFlag, ['auto', 'gble', 'ibg', 'seals', 'nn', 'lr', 'random'])
    .option('--draws <n>', 'seed draws (seeds --seed, --seed+1, ...); the report shows the spread', positiveIntFlag('--draws'), 1);
  addMethodOptions(cmd).action(async (opts: CompareFlags) => {
    await runCompare(opts);
  });
}
