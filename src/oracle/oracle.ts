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
  /** Label a batch; the result has one boolean per item, in order. */
  label(items: readonly OracleItem[], options?: OracleLabelOptions): Promise<boolean[]>;
}
