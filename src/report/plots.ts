/**
 * The report's plots: Vega-Lite specs (metric against query ratio, one line per curve, the
 * random expectation dashed, an optional recall band), rendered to SVG by Vega in Node and to
 * PNG by resvg. Vega and Vega-Lite are ES modules, loaded once with a dynamic `import()`.
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { ReportCurve } from './types';

/** A metric plotted against the query ratio. */
export type MetricName = 'recall' | 'precision' | 'f1';

/** One plot of the report, as a Vega-Lite spec and the file name of its PNG. */
export interface PlotSpec {
  /** File name of the PNG, e.g. `recall.png`. */
  file: string;
  /** Short title, also the HTML section heading. */
  title: string;
  /** The Vega-Lite spec. */
  spec: TopLevelSpec;
}

/** Fonts tried in order, in the SVG (browsers) and by resvg (PNG). */
export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#b279a2',
  '#eeca3b',
  '#9d755d',
  '#ff9da6',
  '#bab0ac',
];
const RANDOM_COLOR = '#444444';
const WIDTH = 560;
const HEIGHT = 340;

const AXIS_TITLES: Record<MetricName, string> = {
  recall: 'Recall',
  precision: 'Precision',
  f1: 'F1 score',
};

interface Point {
  series: string;
  /** The series' colour, for layers drawn without a scale (points, band): no second legend. */
  paint: string;
  kind: 'curve' | 'random';
  x: number;
  y: number;
  order: number;
}

const finite = (v: number): boolean => typeof v === 'number' && Number.isFinite(v);

/** Distinct base rates (random precision) over the curves, each with the labels sharing it. */
function baseRates(curves: ReportCurve[]): number[] {
  const out: number[] = [];
  for (const c of curves) {
    const r = c.rows.find((row) => finite(row.random_precision));
    if (r === undefined) continue;
    const b = r.random_precision;
    if (!out.some((o) => Math.abs(o - b) < 1e-9)) out.push(b);
  }
  return out;
}

function pct(v: number): string {
  return `${(100 * v).toPrecision(3).replace(/\.?0+$/, '')}%`;
}

function randomLabel(bases: number[], b: number): string {
  return bases.length === 1 ? 'random (expected)' : `random, base rate ${pct(b)}`;
}

/** The random expectation of `metric` at query ratio `x` with base rate `b` (see metrics.ts). */
function randomValue(metric: MetricName, x: number, b: number): number {
  if (metric === 'recall') return x;
  if (metric === 'precision') return b;
  return b + x > 0 ? (2 * b * x) / (b + x) : 0;
}

function maxRatio(curves: ReportCurve[]): number {
  let m = 0;
  for (const c of curves) for (const r of c.rows) if (finite(r.query_ratio)) m = Math.max(m, r.query_ratio);
  return m > 0 ? m : 1;
}

function paintOf(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function colorScale(labels: string[], randoms: string[]): { domain: string[]; range: string[] } {
  return {
    domain: [...labels, ...randoms],
    range: [
      ...labels.map((_, i) => paintOf(i)),
      ...randoms.map(() => RANDOM_COLOR),
    ],
  };
}

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#888' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, labelLimit: 0, titleFontSize: 11 },
  title: { fontSize: 14, anchor: 'start' as const },
};

function noDataLayer(message: string): object {
  return {
    data: { values: [{}] },
    mark: { type: 'text', fontSize: 13, color: '#888', text: message },
    encoding: { x: { value: WIDTH / 2 }, y: { value: HEIGHT / 2 } },
  };
}

/**
 * `metric` against the query ratio: one line (with points) per curve, the random expectation as
 * a dashed line, and for recall each curve's band when it has one. Non-finite values (e.g.
 * recall without ground truth) are left out; a plot with nothing left says so.
 */
export function metricPlot(curves: ReportCurve[], metric: MetricName): PlotSpec {
  const labels = curves.map((c) => c.label);
  const xMax = maxRatio(curves);
  const points: Point[] = [];
  for (const [i, c] of curves.entries()) {
    for (const r of c.rows) {
      if (finite(r.query_ratio) && finite(r[metric])) {
        const y = r[metric];
        points.push({ series: c.label, paint: paintOf(i), kind: 'curve', x: r.query_ratio, y, order: r.round });
      }
    }
  }
  // The random expectation is analytic in the ratio, so draw it smoothly over the whole axis.
  const bases = metric === 'recall' ? baseRates(curves).slice(0, 1) : baseRates(curves);
  const randoms: string[] = [];
  for (const b of bases) {
    const label = metric === 'recall' ? 'random (expected)' : randomLabel(bases, b);
    randoms.push(label);
    const steps = metric === 'f1' ? 80 : 1;
    for (let s = 0; s <= steps; s++) {
      const x = (xMax * s) / steps;
      const y = randomValue(metric, x, b);
      points.push({ series: label, paint: RANDOM_COLOR, kind: 'random', x, y, order: s });
    }
  }
  const band: Array<{ series: string; paint: string; x: number; lo: number; hi: number }> = [];
  if (metric === 'recall') {
    for (const [ci, c] of curves.entries()) {
      const rb = c.recallBand;
      if (rb === undefined) continue;
      for (let i = 0; i < rb.query_ratio.length; i++) {
        if (finite(rb.query_ratio[i]) && finite(rb.low[i]) && finite(rb.high[i])) {
          const x = rb.query_ratio[i];
          band.push({ series: c.label, paint: paintOf(ci), x, lo: rb.low[i], hi: rb.high[i] });
        }
      }
    }
  }
  const hasCurve = points.some((p) => p.kind === 'curve');
  const x = {
    field: 'x',
    type: 'quantitative',
    title: 'Ratio of queried data',
    scale: { domain: [0, xMax], nice: true },
    axis: { format: '~%' },
  };
  const y = {
    field: 'y',
    type: 'quantitative',
    title: AXIS_TITLES[metric],
    scale: { domain: [0, 1] },
  };
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: colorScale(labels, randoms),
    legend: { orient: 'bottom', direction: 'vertical', columns: 2, symbolType: 'stroke' },
  };
  const layers: object[] = [];
  if (band.length > 0) {
    layers.push({
      data: { values: band },
      mark: { type: 'area', opacity: 0.18, clip: true },
      encoding: {
        x: { ...x, title: undefined },
        y: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] } },
        y2: { field: 'hi' },
        fill: { field: 'paint', type: 'nominal', scale: null },
        detail: { field: 'series' },
      },
    });
  }
  layers.push({
    data: { values: points },
    mark: { type: 'line', clip: true, strokeWidth: 2 },
    encoding: {
      x,
      y,
      color,
      order: { field: 'order', type: 'quantitative' },
      strokeDash: {
        field: 'kind',
        type: 'nominal',
        scale: { domain: ['curve', 'random'], range: [[1, 0], [6, 4]] },
        legend: null,
      },
    },
  });
  layers.push({
    data: { values: points.filter((p) => p.kind === 'curve') },
    mark: { type: 'circle', size: 28, opacity: 1, clip: true },
    encoding: { x, y, fill: { field: 'paint', type: 'nominal', scale: null } },
  });
  if (!hasCurve) {
    layers.push(
      noDataLayer(
        metric === 'precision' ? 'no data' : `${AXIS_TITLES[metric]} needs ground truth: not known`,
      ),
    );
  }
  const title = `${AXIS_TITLES[metric]} vs. ratio of queried data`;
  return {
    file: `${metric}.png`,
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: WIDTH,
      height: HEIGHT,
      layer: layers,
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/** Precision against recall, one line per curve in round order, base rate dashed. */
export function precisionRecallPlot(curves: ReportCurve[]): PlotSpec {
  const labels = curves.map((c) => c.label);
  const points: Point[] = [];
  for (const [i, c] of curves.entries()) {
    for (const r of c.rows) {
      if (finite(r.recall) && finite(r.precision)) {
        const p = { series: c.label, paint: paintOf(i), kind: 'curve' as const };
        points.push({ ...p, x: r.recall, y: r.precision, order: r.round });
      }
    }
  }
  const bases = baseRates(curves);
  const randoms: string[] = [];
  for (const b of bases) {
    const label = randomLabel(bases, b);
    randoms.push(label);
    points.push({ series: label, paint: RANDOM_COLOR, kind: 'random', x: 0, y: b, order: 0 });
    points.push({ series: label, paint: RANDOM_COLOR, kind: 'random', x: 1, y: b, order: 1 });
  }
  const x = { field: 'x', type: 'quantitative', title: 'Recall', scale: { domain: [0, 1] } };
  const y = { field: 'y', type: 'quantitative', title: 'Precision', scale: { domain: [0, 1] } };
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: colorScale(labels, randoms),
    legend: { orient: 'bottom', direction: 'vertical', columns: 2, symbolType: 'stroke' },
  };
  const layers: object[] = [
    {
      data: { values: points },
      mark: { type: 'line', clip: true, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color,
        detail: { field: 'series' },
        order: { field: 'order', type: 'quantitative' },
        strokeDash: {
          field: 'kind',
          type: 'nominal',
          scale: { domain: ['curve', 'random'], range: [[1, 0], [6, 4]] },
          legend: null,
        },
      },
    },
    {
      data: { values: points.filter((p) => p.kind === 'curve') },
      mark: { type: 'circle', size: 28, opacity: 1, clip: true },
      encoding: { x, y, fill: { field: 'paint', type: 'nominal', scale: null } },
    },
  ];
  if (!points.some((p) => p.kind === 'curve')) {
    layers.push(noDataLayer('Recall needs ground truth: not known'));
  }
  const title = 'Precision vs. recall';
  return {
    file: 'precision-recall.png',
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: WIDTH,
      height: HEIGHT,
      layer: layers,
      config: CONFIG,
    } as TopLevelSpec,
  };
}

type VegaModule = typeof import('vega', { with: { 'resolution-mode': 'import' } });
type VegaLiteModule = typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });

let modules: Promise<[VegaModule, VegaLiteModule]> | undefined;

/** Load Vega and Vega-Lite (ES modules) once. */
function loadVega(): Promise<[VegaModule, VegaLiteModule]> {
  modules ??= Promise.all([import('vega'), import('vega-lite')]);
  return modules;
}

/** Render a Vega-Lite spec to a standalone SVG string (headless, no canvas needed). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await loadVega();
  // Warnings (e.g. legend merging) are not the user's concern: log errors only.
  const logger = vega.logger(vega.Error);
  const compiled = vl.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Pixels per SVG unit. Default 2 (sharp on high-density screens and in papers). */
  scale?: number;
  /** Extra font files (TTF/OTF) for machines with no system fonts. */
  fontFiles?: string[];
}

type Resvg = typeof import('@resvg/resvg-js');

/** Loaded on first use, so the package imports on platforms without a resvg binary. */
function resvg(): Resvg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@resvg/resvg-js') as Resvg;
}

function renderOptions(scale: number, fontFiles: string[] | undefined, systemFonts = true) {
  return {
    fitTo: { mode: 'zoom' as const, value: scale },
    background: 'white',
    font: {
      loadSystemFonts: systemFonts,
      fontFiles: fontFiles ?? [],
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
    logLevel: 'off' as const,
  };
}

/** Rasterise an SVG to PNG bytes with resvg, off the main thread. */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  const image = await resvg().renderAsync(svg, renderOptions(options.scale ?? 2, options.fontFiles));
  return image.asPng();
}

/**
 * Whether resvg finds a font for the plots' text: renders a word and looks for ink. Without a
 * font, resvg silently leaves text out of PNGs. `systemFonts: false` looks at `fontFiles` only.
 */
export async function canDrawText(fontFiles?: string[], systemFonts = true): Promise<boolean> {
  const probe =
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="24">' +
    `<text x="4" y="18" font-family="${FONT}" font-size="16" fill="black">Recall</text></svg>`;
  const image = await resvg().renderAsync(probe, renderOptions(1, fontFiles, systemFonts));
  const px = image.pixels; // RGBA
  for (let i = 0; i < px.length; i += 4) if (px[i] < 128) return true;
  return false;
}
