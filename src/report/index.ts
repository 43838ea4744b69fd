/**
 * Mining reports: `writeReport` turns a {@link ReportInput} into a self-contained `report.html`
 * (inline SVG plots, parameter, timing and metric tables, notes; no scripts, no external
 * resources) and PNG plots next to it: `recall.png`, `precision.png`, `f1.png` (each against the
 * ratio of queried data, one line per curve, the random expectation dashed, the recall band
 * when given) and `precision-recall.png`.
 *
 * PNG text is drawn with the machine's fonts (DejaVu Sans preferred); pass `fontFiles` on a
 * machine that has none.
 */
import * as path from 'node:path';
import { version } from '../cli/version';
import { InvalidArgumentError } from '../errors';
import { METRICS_COLUMNS } from '../metrics';
import { writeFileAtomic } from '../util/atomic';
import { buildHtml } from './html';
import type { HtmlPlot } from './html';
import { canDrawText, metricPlot, precisionRecallPlot, renderSvg, svgToPng } from './plots';
import type { ReportCurve, ReportFiles, ReportInput } from './types';

export type { ReportCurve, ReportFiles, ReportInput } from './types';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** PNG pixels per SVG unit. Default 2. */
  pngScale?: number;
  /** Font files (TTF/OTF) to load besides the system fonts, for machines that have none. */
  fontFiles?: string[];
  /**
   * Called with a message when something is off but the report is still written (e.g. no font
   * for the PNGs' text). Default: print to stderr.
   */
  onWarning?: (message: string) => void;
}

function checkInput(input: ReportInput): ReportCurve[] {
  if (input === null || typeof input !== 'object') {
    throw new InvalidArgumentError('input', 'must be a ReportInput object');
  }
  if (typeof input.title !== 'string') {
    throw new InvalidArgumentError('input.title', 'must be a string');
  }
  for (const [name, obj] of [
    ['input.parameters', input.parameters],
    ['input.timings', input.timings],
  ] as const) {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new InvalidArgumentError(name, 'must be an object of name → value');
    }
  }
  for (const [k, v] of Object.entries(input.parameters)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw new InvalidArgumentError(`input.parameters.${k}`, 'must be a string, number or boolean');
    }
  }
  for (const [k, v] of Object.entries(input.timings)) {
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
      throw new InvalidArgumentError(`input.timings.${k}`, `must be seconds (>= 0), got ${v}`);
    }
  }
  if (input.notes !== undefined && (!Array.isArray(input.notes) || input.notes.some((n) => typeof n !== 'string'))) {
    throw new InvalidArgumentError('input.notes', 'must be an array of strings');
  }
  if (!Array.isArray(input.curves) || input.curves.length === 0) {
    throw new InvalidArgumentError('input.curves', 'must be a non-empty array of curves');
  }
  const seen = new Map<string, number>();
  return input.curves.map((c, i) => {
    const name = `input.curves[${i}]`;
    if (c === null || typeof c !== 'object' || typeof c.label !== 'string' || c.label === '') {
      throw new InvalidArgumentError(`${name}.label`, 'must be a non-empty string');
    }
    if (!Array.isArray(c.rows)) throw new InvalidArgumentError(`${name}.rows`, 'must be an array');
    c.rows.forEach((r, j) => {
      for (const col of METRICS_COLUMNS) {
        if (typeof r?.[col] !== 'number') {
          throw new InvalidArgumentError(`${name}.rows[${j}].${col}`, 'must be a number (NaN if unknown)');
        }
      }
    });
    const band = c.recallBand;
    if (band !== undefined) {
      const ok =
        Array.isArray(band.query_ratio) &&
        Array.isArray(band.low) &&
        Array.isArray(band.high) &&
        band.low.length === band.query_ratio.length &&
        band.high.length === band.query_ratio.length;
      if (!ok) {
        throw new InvalidArgumentError(
          `${name}.recallBand`,
          'needs query_ratio, low and high arrays of equal length',
        );
      }
    }
    // Equal labels would merge into one line: number the repeats.
    const n = (seen.get(c.label) ?? 0) + 1;
    seen.set(c.label, n);
    return n === 1 ? c : { ...c, label: `${c.label} (${n})` };
  });
}

/**
 * Write `report.html` and the PNG plots into `dir` (created if missing). Every file is written
 * atomically (temporary name, then rename), so a reader never sees a half-written one.
 *
 * @returns the paths written
 * @throws InvalidArgumentError naming `dir` or the malformed part of `input`
 */
export async function writeReport(
  dir: string,
  input: ReportInput,
  options: WriteReportOptions = {},
): Promise<ReportFiles> {
  if (typeof dir !== 'string' || dir === '') {
    throw new InvalidArgumentError('dir', 'must be a non-empty folder path');
  }
  const curves = checkInput(input);
  const scale = options.pngScale ?? 2;
  if (!Number.isFinite(scale) || scale <= 0 || scale > 8) {
    throw new InvalidArgumentError('pngScale', `must be in (0, 8], got ${scale}`);
  }
  const specs = [
    metricPlot(curves, 'recall'),
    metricPlot(curves, 'precision'),
    metricPlot(curves, 'f1'),
    precisionRecallPlot(curves),
  ];
  if (!(await canDrawText(options.fontFiles))) {
    (options.onWarning ?? ((m: string) => process.stderr.write(`synapse-g: ${m}\n`)))(
      'no font found for the text of the PNG plots (they will have no labels): install one ' +
        '(e.g. Debian fonts-dejavu-core) or pass fontFiles; report.html is not affected',
    );
  }
  const plots: HtmlPlot[] = [];
  const pngs: string[] = [];
  for (const p of specs) {
    const svg = await renderSvg(p.spec);
    const png = await svgToPng(svg, { scale, fontFiles: options.fontFiles });
    const file = path.join(dir, p.file);
    await writeFileAtomic(file, png);
    pngs.push(file);
    plots.push({ title: p.title, svg, png: p.file });
  }
  const html = path.join(dir, 'report.html');
  await writeFileAtomic(html, buildHtml({ ...input, curves }, plots, version));
  return { html, pngs };
}
