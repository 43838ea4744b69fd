/**
 * Builds the demo data set that ships in `data/demo/` (run once by maintainers; the package only
 * reads the result): an imbalanced slice of SST-2 train (positives are the rare event, 10 % as
 * in the paper's Table 1) and LLM-written positive seeds from SuperGen. Both Apache-2.0.
 *
 *   node --import tsx scripts/make-demo-data.ts [../shared/data]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const shared = process.argv[2] ?? join(__dirname, '..', '..', 'shared', 'data');
const out = join(__dirname, '..', 'data', 'demo');

/** Mulberry32 PRNG, fixed seed so the demo data is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], r: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const r = rng(20250804);
const lines = readFileSync(join(shared, 'sst2', 'train.tsv'), 'utf8').split('\n').slice(1);
const rows = lines
  .filter((l) => l.trim() !== '')
  .map((l, i) => {
    const [sentence, label] = l.split('\t');
    return { id: `sst2-train-${i}`, text: sentence.trim(), label: label.trim() };
  })
  .filter((x) => x.text.split(/\s+/).length >= 4); // drop 1-3 word phrases: too short to judge
const neg = shuffle(rows.filter((x) => x.label === '0'), r).slice(0, 3600);
const pos = shuffle(rows.filter((x) => x.label === '1'), r).slice(0, 400);
const corpus = shuffle([...neg, ...pos], r);
writeFileSync(
  join(out, 'corpus.csv'),
  'id,text,label\n' +
    corpus.map((x) => `${x.id},${csvField(x.text)},${x.label === '1' ? 'positive' : 'negative'}`).join('\n') +
    '\n',
);

const decode = (s: string) =>
  s.replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');
const synthetic = JSON.parse(readFileSync(join(shared, 'supergen-sst2', 'train.json'), 'utf8')) as Array<{
  text: string;
  label: string;
}>;
const seen = new Set<string>();
const seeds = shuffle(
  synthetic.filter((x) => x.label === '1').map((x) => decode(x.text).trim()),
  r,
).filter((t) => t !== '' && !seen.has(t) && seen.add(t));
writeFileSync(join(out, 'seeds.txt'), seeds.slice(0, 500).join('\n') + '\n');
console.log(`corpus: ${corpus.length} rows (${pos.length} positive), seeds: ${Math.min(500, seeds.length)}`);
