/**
 * The oracle: whoever labels the candidates a round proposes (ground truth in experiments, an LLM
 * rater, or a person). Mining only ever talks to it through this interface, in batches.
 */

/** A candidate sent to the oracle: its corpus row, id and text. */
export interface OracleItem {
  /** 0-based row of the corpus. */
  row: number;
  /** The row's id (the id column, or its 1-based row number). */
  id: string;
  /** The row's text (empty when the corpus came as vectors only). */
  text: string;
}

/** Options of {@link Oracle.label}. */
export interface OracleLabelOptions {
  /** Cancels the batch. */
  signal?: AbortSignal;
  /** Called as labels come in (done out of total). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called with each answer as soon as it is given (by oracles that answer one row at a time, e.g.
   * a person); the oracle waits for it before going on, so an answer is durable before the next
   * is asked. `label: undefined` withdraws an earlier answer of this batch (undo).
   */
  onAnswer?: (item: OracleItem, label: boolean | undefined) => Promise<void>;
  /** Rows of this round already answered before this call (e.g. from a journal), for progress. */
  alreadyAnswered?: number;
}

/** Labels batches of candidates: `true` = positive (the rare event), `false` = negative. */
export interface Oracle {
  /** A short description for reports, e.g. `column label=positive`. */
  readonly name: string;
  /**
   * How many corpus rows are positive, when the oracle knows (ground truth). Lets metrics report
   * recall; `undefined` for LLM and human oracles.
   */
  readonly totalPositives?: number;
  /**
   * The oracle answers row by row and reports each through `onAnswer`: give it a whole round at
   * once (it shows its own progress) instead of small chunks.
   */
  readonly streaming?: boolean;
  /** Release what the oracle holds (a server, a terminal). */
  close?(): Promise<void>;
  /** Label a batch; the result has one boolean per item, in order. */
  label(items: readonly OracleItem[], options?: OracleLabelOptions): Promise<boolean[]>;
  /**
   * Label a batch as far as the oracle can: one entry per item, in order, `undefined` where it
   * has no verdict (e.g. an LLM that never gave a valid answer). Never invents a label. Optional:
   * oracles that always answer implement only {@link Oracle.label}.
   */
  labelPartial?(items: readonly OracleItem[], options?: OracleLabelOptions): Promise<(boolean | undefined)[]>;
}
