/** The README's TypeScript example, run as written (with the shipped demo data and a scripted rater). */
import test from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { matrix, mine, readTable, resolveEmbedder, selectAcsSeeds, stackRows } from '../src/index';
import { REPO } from './helpers/cli';

test('README API example: embed, ACS seeds, mine with a custom async oracle', async (t) => {
  const cacheDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-readme-'));
  t.teardown(() => fsp.rm(cacheDir, { recursive: true, force: true }));
  const table = await readTable(path.join(REPO, 'data', 'demo', 'corpus.csv'), {
    flag: 'corpus',
    textColumn: 'text',
    idColumn: 'id',
    extraColumns: [{ column: 'label', flag: 'label' }],
  });
  const texts = table.texts;
  const truth = new Map(texts.map((x, i) => [x, table.extra.label[i] === 'positive']));
  const llmExamples = (await fsp.readFile(path.join(REPO, 'data', 'demo', 'seeds.txt'), 'utf8')).trim().split('\n');
  let asked = 0;
  const askRaters = async (batch: string[]): Promise<boolean[]> => {
    asked += batch.length;
    return batch.map((x) => truth.get(x) === true);
  };

  // --- as in the README ---
  const embedder = await resolveEmbedder('default', { cacheDir });
  const corpus = matrix(await embedder.embed(texts), embedder.dim, 'corpus');
  const synthetic = matrix(await embedder.embed(llmExamples), embedder.dim, 'seeds');
  const { indices } = await selectAcsSeeds(synthetic, 100);
  const seeds = stackRows(synthetic, Array.from(indices));
  const rounds: number[] = [];
  const result = await mine({
    method: 'auto',
    corpus,
    seeds,
    oracle: { name: 'my raters', label: async (items) => askRaters(items.map((i) => i.text)) },
    texts,
    maxQueryRatio: 0.05,
    seed: 1,
    onRound: (r) => rounds.push(r.metrics.positives_found),
  });
  // ---
  t.is(asked, 200, 'exactly 5 % of 4,000 rows asked');
  t.is(result.labeled.length, 200);
  const found = result.labeled.filter((l) => l.label).length;
  t.is(found, rounds[rounds.length - 1]);
  t.true(found > 2 * 20, `${found} positives in 200 queries; random would find about 20`);
  t.true(Number.isNaN(result.metrics[0].recall), 'a custom oracle does not know the total, so recall is unknown');
});
