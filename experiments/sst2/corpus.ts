/**
 * The SST-2 setting of the paper's Table 1, read from ../shared/data: all 29,780 negatives of the
 * train split plus 3,308 positives drawn with a fixed seed (33,088 rows, 10 % positive), and the
 * SuperGen LLM-written positive reviews as the synthetic set (a public stand-in for the paper's
 * GPT-written set).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Random } from '../../src/util/random';

export const SHARED = process.env.SYNAPSE_G_SHARED ?? path.join(__dirname, '..', '..', '..', 'shared', 'data');

const N_POSITIVES = 3308;

/** Table 1's imbalanced train split (fixed seed 2025). */
export function loadSst2Corpus(): { texts: string[]; labels: boolean[] } {
  const lines = readFileSync(path.join(SHARED, 'sst2', 'train.tsv'), 'utf8').split('\n').slice(1);
  const neg: string[] = [];
  const pos: string[] = [];
  for (const l of lines) {
    if (l.trim() === '') continue;
    const tab = l.lastIndexOf('\t');
    const text = l.slice(0, tab).trim();
    (l.slice(tab + 1).trim() === '1' ? pos : neg).push(text);
  }
  const r = new Random(2025);
  const idx = Uint32Array.from(pos.keys());
  const chosen = Array.from(r.sample(idx, N_POSITIVES)).sort((a, b) => a - b);
  const rows = [...neg.map((t) => ({ t, y: false })), ...chosen.map((i) => ({ t: pos[i], y: true }))];
  const order = r.shuffle(Uint32Array.from(rows.keys()));
  return { texts: Array.from(order, (i) => rows[i].t), labels: Array.from(order, (i) => rows[i].y) };
}

/** SuperGen's LLM-written positive reviews (label "1"), HTML entities decoded, deduplicated. */
export function loadSyntheticPositives(): string[] {
  return loadSuperGen('1');
}

/** Distinct SuperGen texts (of one label, or all), HTML entities decoded. */
function loadSuperGen(label?: string): string[] {
  const all = JSON.parse(readFileSync(path.join(SHARED, 'supergen-sst2', 'train.json'), 'utf8')) as { text: string; label: string }[];
  const decode = (s: string): string =>
    s.replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');
  const texts = all.filter((x) => label === undefined || x.label === label).map((x) => decode(x.text).trim());
  return [...new Set(texts.filter((t) => t !== ''))];
}


/** Every distinct SuperGen text (both sentiments), HTML entities decoded. */
export function loadSyntheticAll(): string[] {
  return loadSuperGen();
}
