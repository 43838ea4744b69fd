/**
 * The ground-truth oracle of experiments: a label column of the corpus, read up front. A row is
 * positive when its value equals the positive value (`--oracle column:NAME=VALUE`).
 */
import { InvalidArgumentError } from '../errors';
import type { Oracle, OracleItem } from './oracle';

/** A parsed `column:NAME=VALUE` oracle spec. */
export interface ColumnOracleSpec {
  column: string;
  positiveValue: string;
}

/**
 * Parse `column:NAME=VALUE` (the `--oracle` flag). The first `=` splits name and value, so the
 * value may contain `=`; surrounding whitespace is kept (values are compared exactly).
 */
export function parseColumnOracleSpec(spec: string, flag = '--oracle'): ColumnOracleSpec {
  const m = /^column:([^=]+)=(.*)$/s.exec(spec);
  if (!m || m[1].length === 0) {
    throw new InvalidArgumentError(flag, `expected column:NAME=VALUE (e.g. column:label=positive), got ${JSON.stringify(spec)}`);
  }
  return { column: m[1], positiveValue: m[2] };
}

/**
 * An oracle answering from known labels (`labels[row]`: booleans, or numbers with non-zero
 * positive, such as a uint8 ground-truth column), counting positives for recall.
 */
export function createGroundTruthOracle(labels: ArrayLike<boolean | number>, name = 'ground truth'): Oracle {
  let total = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) total++;
  const n = labels.length;
  return {
    name,
    totalPositives: total,
    label(items: readonly OracleItem[], options = {}): Promise<boolean[]> {
      options.signal?.throwIfAborted();
      const out = items.map((it) => {
        if (!Number.isInteger(it.row) || it.row < 0 || it.row >= n) {
          throw new InvalidArgumentError('row', `${it.row} is outside the corpus (0..${n - 1})`);
        }
        return Boolean(labels[it.row]);
      });
      options.onProgress?.(items.length, items.length);
      return Promise.resolve(out);
    },
  };
}

/**
 * The oracle of `--oracle column:NAME=VALUE`: `values` is the corpus's NAME column. Fails when no
 * row has the positive value (a typo in VALUE would otherwise mine for nothing), listing the
 * values seen.
 */
export function createColumnOracle(values: readonly string[], spec: ColumnOracleSpec, flag = '--oracle'): Oracle {
  const labels = values.map((v) => v === spec.positiveValue);
  if (!labels.some(Boolean)) {
    const seen = [...new Set(values)].slice(0, 10).map((v) => JSON.stringify(v));
    throw new InvalidArgumentError(
      flag,
      `no row of column ${JSON.stringify(spec.column)} equals ${JSON.stringify(spec.positiveValue)}; values seen: ${seen.join(', ')}`,
    );
  }
  return createGroundTruthOracle(labels, `column ${spec.column}=${spec.positiveValue}`);
}
