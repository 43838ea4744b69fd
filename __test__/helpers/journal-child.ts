/**
 * A mining run in a child process, for the kill -9 tests: planted data, GBLE, a ground-truth
 * oracle that takes `delayMs` per batch (a slow rater), journaled to `file`. Prints one JSON line:
 * the labeled rows, how many rows the oracle was asked, and how many answers the journal held.
 *
 *   node --import tsx journal-child.ts FILE start|resume DELAY_MS
 */
import { createGroundTruthOracle, journaledOracle, matrix, mine, openJournal, type Oracle } from '../../src/index';
import { plantedCorpus } from './random';

async function main(): Promise<void> {
  const [file, mode, delay] = process.argv.slice(2);
  const planted = plantedCorpus(2000, 100, 20, 7);
  const truth = createGroundTruthOracle(planted.labels);
  let asked = 0;
  const slow: Oracle = {
    name: 'slow ground truth',
    totalPositives: truth.totalPositives,
    async label(items, options) {
      await new Promise((r) => setTimeout(r, Number(delay)));
      asked += items.length;
      return truth.label(items, options);
    },
  };
  const journal = await openJournal(file, { test: true }, mode === 'resume');
  const fromJournal = journal.answers.size;
  const r = await mine({
    method: 'gble',
    corpus: matrix(planted.corpus, planted.dim),
    seeds: matrix(planted.seeds, planted.dim),
    oracle: journaledOracle(slow, journal, { chunk: 8 }),
    ids: planted.labels.map((_, i) => `r${i}`),
    tau: 0.5,
    dmax: 10,
    k0: 20,
    maxQueryRatio: 0.15,
    seed: 3,
  });
  await journal.close();
  process.stdout.write(`${JSON.stringify({ labeled: r.labeled.map((l) => [l.id, l.label, l.round]), asked, fromJournal })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
