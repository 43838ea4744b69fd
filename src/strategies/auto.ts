/**
 * `auto`, synapse-g's default: graph propagation and a classifier, combined per round by a
 * bandit, so users need not know whether their rare event is topical (the graph wins) or a
 * global direction in embedding space such as sentiment (a linear classifier wins).
 *
 * Each round four rankings of the unlabeled rows are made:
 * - `graph`: GBLE's propagation scores over the kNN graph of corpus ∪ seeds (Algorithm 3);
 * - `classifier`: logistic regression on every label so far (seeds, pseudo-negatives, oracle);
 * - `fusion`: the mean of the two rank percentiles;
 * - `local`: the classifier's best rows among the rows within two steps of a labeled row on the
 *   kNN graph (SEALS's candidate pool, read off the graph GBLE already has: no extra search).
 * The round's `K = K0 / p_prev` slots are filled one at a time by Thompson sampling: each arm's
 * precision has a Beta posterior over the labels of the rows it proposed (older rounds discounted
 * by `DECAY`), a draw from each posterior picks the arm, and the arm gives its best row not yet
 * taken. Precise arms get more of the budget, and the others keep being checked.
 */
import { topCandidates, type CsrGraph } from '../kernels';
import { createSeedClassifier, percentiles, scatter, unlabeledRows } from './classifier';
import { gbleGraph, propagateScores, type GbleParams } from './gble';
import { adaptiveK, labeledMask, POSITIVE, UNLABELED, type MiningState, type Proposal, type Strategy } from './strategy';

/** Weight of a round's evidence one round later. */
const DECAY = 0.7;
const ARMS = ['graph', 'classifier', 'fusion', 'local'] as const;
/** Graph hops around each labeled row that make the `local` arm's pool. */
const HOPS = 2;

/** Mark the nodes within `hops` steps of `node` in `mark`. */
function addNeighbourhood(graph: CsrGraph, node: number, hops: number, mark: Uint8Array): void {
  const seen = new Set([node]);
  let frontier = [node];
  for (let h = 0; h < hops; h++) {
    const next: number[] = [];
    for (const v of frontier) {
      for (let e = graph.offsets[v]; e < graph.offsets[v + 1]; e++) {
        const u = graph.ids[e];
        if (!seen.has(u)) {
          seen.add(u);
          mark[u] = 1;
          next.push(u);
        }
      }
    }
    frontier = next;
  }
}
type Arm = (typeof ARMS)[number];

/** A draw from Beta(a, b) (a, b ≥ 1) via two Gamma draws (Marsaglia–Tsang), from `uniform`. */
function betaDraw(a: number, b: number, uniform: () => number): number {
  const gamma = (k: number): number => {
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        // Box–Muller normal.
        x = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const x = gamma(a);
  return x / (x + gamma(b));
}

/** `auto`: graph + classifier, combined by a bandit. */
export function createAutoStrategy(params: GbleParams): Strategy {
  const classifier = createSeedClassifier();
  let graph: CsrGraph | undefined;
  const zero = (): Record<Arm, number> => ({ graph: 0, classifier: 0, fusion: 0, local: 0 });
  const hits = zero();
  const misses = zero();
  const taken = zero();
  let inPool = new Uint8Array(0);
  let expanded = new Uint8Array(0);
  let lastPicks = new Map<number, Arm>();
  let labels: Int8Array = new Int8Array(0);
  return {
    name: 'auto',
    async prepare(state: MiningState): Promise<void> {
      classifier.prepare(state);
      labels = state.labels;
      graph = await gbleGraph(state.corpus, state.seeds, params);
      inPool = new Uint8Array(state.corpus.rows + state.seeds.rows);
      expanded = new Uint8Array(state.corpus.rows);
      for (let s = 0; s < state.seeds.rows; s++) addNeighbourhood(graph, state.corpus.rows + s, HOPS, inPool);
    },
    notes(): string[] {
      // Count the last round's picks that were queried (a budget cut may drop some).
      const q = { ...taken };
      for (const [row, arm] of lastPicks) if (labels[row] !== UNLABELED) q[arm]++;
      return [`auto: rows queried per arm: graph ${q.graph}, classifier ${q.classifier}, fusion ${q.fusion}, local ${q.local}`];
    },
    async propose(state: MiningState): Promise<Proposal> {
      if (!graph) throw new Error('auto: prepare() was not called');
      // Credit last round's picks to the arms that made them.
      for (const a of ARMS) {
        hits[a] *= DECAY;
        misses[a] *= DECAY;
      }
      for (const [row, arm] of lastPicks) {
        if (state.labels[row] === POSITIVE) hits[arm]++;
        else if (state.labels[row] !== UNLABELED) misses[arm]++;
        if (state.labels[row] !== UNLABELED) taken[arm]++;
      }
      lastPicks = new Map();
      const pool = unlabeledRows(state.labels);
      if (pool.length === 0) return { rows: pool, emptyReason: 'every row has been queried' };
      const m = pool.length;
      const k = Math.min(adaptiveK(params.k0, state.previousPrecision), m);
      const exclude = labeledMask(state.labels);
      // The local arm's pool: the graph neighbourhoods of every labeled row (SEALS's candidates,
      // read off the kNN graph GBLE already has: no extra similarity search).
      for (let r = 0; r < state.labels.length; r++) {
        if (state.labels[r] !== UNLABELED && !expanded[r]) {
          expanded[r] = 1;
          addNeighbourhood(graph, r, HOPS, inPool);
        }
      }
      const g = await propagateScores(graph, state, params);
      await classifier.train(state);
      const c = scatter(pool, await classifier.score(state, pool), state.corpus.rows);
      // Rank percentiles among the unlabeled rows (native sort + binary search), then their mean.
      const pg = percentiles(g, exclude, m);
      const pc = percentiles(c, exclude, m);
      const fused = new Float32Array(state.corpus.rows);
      for (const r of pool) fused[r] = (pg[r] + pc[r]) / 2;
      const local = new Float32Array(state.corpus.rows).fill(-Infinity);
      for (const r of pool) if (inPool[r]) local[r] = c[r];
      // Each arm needs at most k rows of its own plus what the others took first.
      const depth = Math.min(m, 3 * k);
      const order: Record<Arm, Uint32Array> = {
        graph: topCandidates(g, depth, exclude),
        classifier: topCandidates(c, depth, exclude),
        fusion: topCandidates(fused, depth, exclude),
        local: topCandidates(local, depth, exclude).filter((r) => inPool[r] === 1),
      };
      const next = zero();

      const chosen = new Set<number>();
      const picks = new Map<number, Arm>();
      const uniform = (): number => state.random.below(0x100000000) / 0x100000000;
      while (chosen.size < k) {
        let best: Arm = 'fusion';
        let bestDraw = -1;
        for (const a of ARMS) {
          const d = betaDraw(1 + hits[a], 1 + misses[a], uniform);
          if (d > bestDraw) {
            bestDraw = d;
            best = a;
          }
        }
        const o = order[best];
        while (next[best] < o.length && chosen.has(o[next[best]])) next[best]++;
        if (next[best] >= o.length) {
          // This arm's list is used up (every row it ranked was taken): draw again without it.
          hits[best] = -1e9;
          if (ARMS.every((a) => next[a] >= order[a].length)) break;
          continue;
        }
        const row = o[next[best]++];
        chosen.add(row);
        picks.set(row, best);
      }
      lastPicks = picks;
      return { rows: Uint32Array.from(chosen) };
    },
  };
}
