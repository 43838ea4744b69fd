/** The benchmark cases: shapes, parameters, repetitions and the files they read. */
import { clustered, exists, labels, queriesNear, randomGraph, save } from './data';

export type CaseKind = 'bipartite' | 'knn' | 'propagate';

export interface Case {
  /** Name shown in the table and the JSON. */
  name: string;
  kind: CaseKind;
  /** Timed repetitions after `warmup` untimed ones; the median is reported (both sides alike). */
  reps: number;
  warmup: number;
  /** Peers this case is compared with, by name in peers.py. */
  peers: string[];
  /** Parameters, passed verbatim to the peer script. */
  params: {
    rows: number;
    dim?: number;
    queries?: number;
    k?: number;
    threshold?: number;
    deg?: number;
    iterations?: number;
    /** Input files under benchmarks/out. */
    files: Record<string, string>;
  };
  /** Floating-point operations of the similarity products (2·m·n·d), for GFLOP/s. */
  flops?: number;
}

function vectorsFile(rows: number, dim: number): string {
  return `clustered-${rows}x${dim}.f32`;
}

export function cases(quick: boolean): Case[] {
  const s = quick ? 10 : 1;
  const bipRows = Math.round(33088 / s);
  const knnSmall = Math.round(33088 / (quick ? 4 : 1));
  const knnBig = quick ? 20000 : 100000;
  const propRows = quick ? 100000 : 1000000;
  const out: Case[] = [
    {
      name: `bipartite ${100}x${bipRows}x512 k50 t0.7`,
      kind: 'bipartite',
      reps: quick ? 5 : 15,
      warmup: 2,
      peers: ['faiss', 'numpy'],
      params: {
        rows: bipRows,
        dim: 512,
        queries: 100,
        k: 50,
        threshold: 0.7,
        files: { corpus: vectorsFile(bipRows, 512), queries: `queries-100-near-${bipRows}x512.f32` },
      },
      flops: 2 * 100 * bipRows * 512,
    },
    {
      name: `knn-graph ${knnSmall}x512 k50`,
      kind: 'knn',
      reps: quick ? 2 : 2,
      warmup: 0,
      peers: ['faiss'],
      params: { rows: knnSmall, dim: 512, k: 50, files: { corpus: vectorsFile(knnSmall, 512) } },
      flops: 2 * knnSmall * knnSmall * 512,
    },
    {
      name: `knn-graph ${knnBig}x384 k50`,
      kind: 'knn',
      reps: 1,
      warmup: 0,
      peers: ['faiss'],
      params: { rows: knnBig, dim: 384, k: 50, files: { corpus: vectorsFile(knnBig, 384) } },
      flops: 2 * knnBig * knnBig * 384,
    },
    {
      name: `propagate ${propRows}x50nnz 20it`,
      kind: 'propagate',
      reps: quick ? 3 : 5,
      warmup: 1,
      peers: ['scipy'],
      params: {
        rows: propRows,
        deg: 50,
        iterations: 20,
        files: {
          offsets: `graph-${propRows}x50.offsets.u32`,
          ids: `graph-${propRows}x50.ids.u32`,
          y0: `labels-${propRows}.y0.f32`,
          clamp: `labels-${propRows}.clamp.u8`,
        },
      },
    },
  ];
  return out;
}

/** Generate (once) every file the cases read. Deterministic: fixed seeds. */
export function ensureData(list: Case[]): void {
  for (const c of list) {
    const p = c.params;
    const f = p.files;
    if (c.kind === 'bipartite' || c.kind === 'knn') {
      const dim = p.dim ?? 0;
      if (!exists(f.corpus)) {
        process.stderr.write(`generating ${f.corpus}\n`);
        save(f.corpus, clustered(p.rows, dim, Math.max(16, Math.round(p.rows / 50)), p.rows + dim));
      }
      if (f.queries !== undefined && !exists(f.queries)) {
        process.stderr.write(`generating ${f.queries}\n`);
        // Regenerate the corpus in memory (deterministic) rather than read it back.
        const corpus = clustered(p.rows, dim, Math.max(16, Math.round(p.rows / 50)), p.rows + dim);
        save(f.queries, queriesNear(corpus, dim, p.queries ?? 100, 7));
      }
    } else {
      if (!exists(f.ids) || !exists(f.offsets)) {
        process.stderr.write(`generating ${f.ids}\n`);
        const g = randomGraph(p.rows, p.deg ?? 50, 11);
        save(f.offsets, g.offsets);
        save(f.ids, g.ids);
      }
      if (!exists(f.y0) || !exists(f.clamp)) {
        const l = labels(p.rows, 13);
        save(f.y0, l.y0);
        save(f.clamp, l.clamp);
      }
    }
  }
}
