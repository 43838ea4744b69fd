/** A planted corpus written as the CLI reads it: corpus CSV, seeds TXT and both vector files. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeNpyFloat32 } from '../../src/io/vectors';
import { plantedCorpus, type PlantedCorpus } from './random';

/** Options of {@link plantedFiles}. */
export interface PlantedFilesOptions {
  rows: number;
  positives: number;
  seeds: number;
  seed: number;
  /** A row's text (default `row i`). */
  text?: (i: number, positive: boolean) => string;
  /** Add a `label` column (`yes`/`no`) for `--oracle column:label=yes`. Default true. */
  labelColumn?: boolean;
}

/** Write the files into `dir`; returns the corpus/seed/vector flags of `mine` and the data. */
export async function plantedFiles(dir: string, o: PlantedFilesOptions): Promise<{ args: string[]; planted: PlantedCorpus }> {
  const p = plantedCorpus(o.rows, o.positives, o.seeds, o.seed);
  const text = o.text ?? ((i: number) => `row ${i}`);
  const label = o.labelColumn ?? true;
  const corpus = path.join(dir, 'corpus.csv');
  const seeds = path.join(dir, 'seeds.txt');
  const cv = path.join(dir, 'corpus.npy');
  const sv = path.join(dir, 'seeds.npy');
  const csv = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  await fsp.writeFile(corpus, `id,text${label ? ',label' : ''}\n${p.labels.map((l, i) => `r${i},${csv(text(i, l))}${label ? `,${l ? 'yes' : 'no'}` : ''}`).join('\n')}\n`);
  await fsp.writeFile(seeds, `${Array.from({ length: o.seeds }, (_, i) => `synthetic seed ${i}`).join('\n')}\n`);
  await writeNpyFloat32(cv, p.corpus, [o.rows, p.dim]);
  await writeNpyFloat32(sv, p.seeds, [o.seeds, p.dim]);
  const args = ['--corpus', corpus, '--text-column', 'text', '--id-column', 'id', '--seeds', seeds, '--corpus-vectors', cv, '--seed-vectors', sv, '--num-seeds', String(o.seeds)];
  return { args, planted: p };
}
