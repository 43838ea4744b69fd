/** The files a mining run writes (metrics.csv, labeled.csv, run.json, the report) and its stdout table. */
import * as path from 'node:path';
import { writeCsv } from '../io/table';
import { METRICS_COLUMNS, type MetricsRow } from '../metrics';
import type { MineResult } from '../mine';
import { writeReport, type ReportCurve, type ReportFiles } from '../report/index';
import { writeFileAtomic } from '../util/atomic';
import type { MiningInputs } from './inputs';

/** A metrics value as written to CSV: integers plain, ratios with 6 decimals, NaN empty. */
function cell(v: number): string | number {
  if (Number.isNaN(v)) return '';
  return Number.isInteger(v) ? v : Number(v.toFixed(6));
}

/** `metrics.csv`: one row per round, exactly {@link METRICS_COLUMNS} (plus leading `extra` columns). */
export async function writeMetricsCsv(file: string, rows: readonly (MetricsRow & { method?: string })[], withMethod = false): Promise<void> {
  const header = withMethod ? ['method', ...METRICS_COLUMNS] : [...METRICS_COLUMNS];
  await writeCsv(
    file,
    header,
    rows.map((r) => [...(withMethod ? [r.method ?? ''] : []), ...METRICS_COLUMNS.map((c) => cell(r[c]))]),
  );
}

/** `labeled.csv`: the seeds (round 0, source `seed`) and every oracle label (source `oracle`). */
export async function writeLabeledCsv(file: string, inputs: MiningInputs, result: MineResult): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const s of inputs.seedRows) {
    rows.push([`seed:${inputs.seedTable.ids[s]}`, inputs.seedTable.texts[s], 'positive', 0, 'seed']);
  }
  for (const l of result.labeled) {
    rows.push([l.id, inputs.corpusTable.texts[l.row], l.label ? 'positive' : 'negative', l.round, 'oracle']);
  }
  await writeCsv(file, ['id', 'text', 'label', 'round', 'source'], rows);
}

/** The metrics as an aligned text table (stdout). */
export function formatMetricsTable(rows: readonly MetricsRow[]): string {
  const cols = ['round', 'queried', 'query_ratio', 'positives_found', 'precision', 'recall', 'f1'] as const;
  const fmt = (c: (typeof cols)[number], v: number): string =>
    Number.isNaN(v) ? '-' : c === 'round' || c === 'queried' || c === 'positives_found' ? String(v) : v.toFixed(4);
  const cells = [cols.map(String), ...rows.map((r) => cols.map((c) => fmt(c, r[c])))];
  const widths = cols.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  return cells.map((row) => row.map((v, j) => v.padStart(widths[j])).join('  ')).join('\n');
}

/** Everything describing a run, for run.json and the report's parameter table. */
export function runParameters(
  flags: Record<string, unknown>,
  inputs: MiningInputs,
): Record<string, string | number | boolean> {
  const p: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') p[k] = v;
  }
  if (inputs.embedderId !== 'precomputed vectors' && typeof flags.embedder === 'string') p['embedder spec'] = flags.embedder;
  p.embedder = inputs.embedderId;
  p['corpus rows'] = inputs.corpus.rows;
  p['corpus positives (oracle)'] = inputs.oracle.totalPositives ?? 'unknown';
  p['synthetic seeds available'] = inputs.synthetic.rows;
  p['seeds selected'] = inputs.seedRows.length;
  if (inputs.acs) {
    p['ACS threshold t'] = Number(inputs.acs.threshold.toFixed(4));
    p['ACS coverage'] = Number(inputs.acs.coverage.toFixed(4));
  }
  return p;
}

/** Write run.json and the report into `dir`. */
export async function writeRunSummary(
  dir: string,
  title: string,
  parameters: Record<string, string | number | boolean>,
  timings: Record<string, number>,
  results: readonly MineResult[],
  curves: ReportCurve[],
  notes: string[],
): Promise<ReportFiles> {
  const summary = {
    parameters,
    timings,
    methods: results.map((r) => ({ method: r.method, params: r.params, stopReason: r.stopReason, timings: r.timings, notes: r.notes, rounds: r.metrics.length, final: r.metrics[r.metrics.length - 1] ?? null })),
  };
  await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return writeReport(dir, { title, parameters, timings, curves, notes });
}
