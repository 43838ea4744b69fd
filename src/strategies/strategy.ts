/**
 * What every mining method implements. A method proposes candidates each round; the mining loop
 * (src/mine.ts) sends them to the oracle, records the labels in the shared state and asks again.
 */
import type { Matrix } from '../kernels';
import type { Random } from '../util/random';

/** Label of a corpus row in {@link MiningState.labels}. */
export const UNLABELED = 0;
export const POSITIVE = 1;
export const NEGATIVE = -1;

/** What a method sees when it proposes. Methods read it; only the mining loop writes it. */
export interface MiningState {
  /** The unlabeled corpus, L2-normalised rows. */
  readonly corpus: Matrix;
  /** The selected seeds (embedded synthetic positives), L2-normalised rows. */
  readonly seeds: Matrix;
  /** Per corpus row: {@link UNLABELED}, {@link POSITIVE} or {@link NEGATIVE} (oracle labels). */
  readonly labels: Int8Array;
  /** Corpus rows the oracle called positive, in the order found. */
  readonly positives: readonly number[];
  /** The round about to be proposed, from 1. */
  readonly round: number;
  /** Precision of the previous round's batch (`undefined` in round 1). */
  readonly previousPrecision: number | undefined;
  /** Seeded randomness (the run's `--seed`). */
  readonly random: Random;
  /** Cancels long work. */
  readonly signal?: AbortSignal;
}

/** A round's proposal. */
export interface Proposal {
  /** Unlabeled corpus rows to query, best first (a budget cut keeps a prefix). */
  rows: Uint32Array;
  /** No further rounds after this one (the one-shot bipartite method). */
  final?: boolean;
  /** Why `rows` is empty, when it is (shown to the user as the stop reason). */
  emptyReason?: string;
}

/** A mining method: `bipartite`, `ibg`, `gble` or a baseline. */
export interface Strategy {
  /** The method's name, as on the command line. */
  readonly name: string;
  /** One-off work before round 1 (e.g. the GBLE graph). */
  prepare?(state: MiningState): Promise<void>;
  /** The candidates of the next round. */
  propose(state: MiningState): Promise<Proposal>;
  /** Facts worth a line in the report (graph size, rows without edges, ...), after `prepare`. */
  notes?(): string[];
  /** Release what `prepare` started (e.g. a Spark application); the mining loop calls it last. */
  close?(): Promise<void>;
}

/** Lowest previous precision used in `K = K0 / p_prev`, so `K` stays at most `K0 / P_FLOOR`. */
export const P_FLOOR = 0.05;

/**
 * The adaptive round size of GBLE and the LR baseline: `K = ceil(K0 / p_prev)`, aiming at about
 * `K0` new positives a round. Round 1 (no previous precision) queries `K0`; `p_prev` is floored
 * at {@link P_FLOOR} (so a round with no positive gives `20·K0`, not infinity).
 */
export function adaptiveK(k0: number, previousPrecision: number | undefined): number {
  if (previousPrecision === undefined) return k0;
  return Math.ceil(k0 / Math.max(previousPrecision, P_FLOOR));
}

/** Byte mask of labeled corpus rows (1 = labeled), for the kernels' `exclude`. */
export function labeledMask(labels: Int8Array): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (labels[i] !== UNLABELED) m[i] = 1;
  return m;
}

/** Rows `rows` of `m` stacked into a new matrix (`extra` rows first, when given). */
export function stackRows(m: Matrix, rows: readonly number[], extra?: Matrix): Matrix {
  const dim = m.dim;
  const head = extra ? extra.data.length : 0;
  const out = new Float32Array(head + rows.length * dim);
  if (extra) out.set(extra.data, 0);
  for (let i = 0; i < rows.length; i++) {
    out.set(m.data.subarray(rows[i] * dim, (rows[i] + 1) * dim), head + i * dim);
  }
  return { data: out, dim, rows: out.length / dim };
}
