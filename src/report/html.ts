/**
 * The self-contained `report.html`: inline CSS, inline SVG plots, no scripts and no external
 * resources, so it opens anywhere (offline, attached to an email, in a CI artifact).
 */
import type { MetricsRow } from '../metrics';
import { METRICS_COLUMNS } from '../metrics';
import type { ReportCurve, ReportInput } from './types';

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/**
 * Make an SVG safe to inline next to others: drop the XML namespace declarations (not needed
 * inside HTML) and prefix every `id` and its references, so two plots' clip paths never clash.
 */
export function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`)
    .replace(/<svg\b/, '<svg role="img"');
}

function fmt(v: number, digits = 4): string {
  if (typeof v !== 'number' || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(digits);
}

function fmtPct(v: number): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return `${(100 * v).toFixed(2)}%`;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

function summary(curves: ReportCurve[]): string {
  const rows = curves.map((c) => {
    const last: MetricsRow | undefined = c.rows[c.rows.length - 1];
    let bestF1 = Number.NaN;
    for (const r of c.rows) if (Number.isFinite(r.f1) && !(r.f1 <= bestF1)) bestF1 = r.f1;
    return [
      escapeHtml(c.label),
      last ? String(last.round) : '0',
      last ? fmt(last.queried) : '—',
      last ? fmtPct(last.query_ratio) : '—',
      last ? fmt(last.positives_found) : '—',
      last ? fmt(last.precision) : '—',
      last ? fmt(last.recall) : '—',
      last ? fmt(last.f1) : '—',
      fmt(bestF1),
    ];
  });
  return table(
    ['curve', 'rounds', 'queried', 'query ratio', 'positives found', 'precision', 'recall', 'F1', 'best F1'],
    rows,
    'num',
  );
}

function metricsTable(c: ReportCurve): string {
  if (c.rows.length === 0) return '<p class="muted">No rounds.</p>';
  const rows = c.rows.map((r) => METRICS_COLUMNS.map((k) => fmt(r[k])));
  return table(
    METRICS_COLUMNS.map((k) => escapeHtml(k)),
    rows,
    'num',
  );
}

function valueCell(v: string | number | boolean): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : fmt(v);
  return escapeHtml(String(v));
}

const CSS = `
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1rem;margin:.8rem 0 .3rem}
.muted{color:#777}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
table.num td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:1.2rem}
figure{margin:0;flex:1 1 540px;max-width:100%}
figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#555}
ul.notes li{margin:.2rem 0}
details{margin:.3rem 0}
summary{cursor:pointer}
`;

/** One rendered plot for the page. */
export interface HtmlPlot {
  /** Heading. */
  title: string;
  /** The SVG markup (as Vega wrote it). */
  svg: string;
  /** The PNG file name next to the report. */
  png: string;
}

/** Build the report page. */
export function buildHtml(input: ReportInput, plots: HtmlPlot[], version: string): string {
  const title = escapeHtml(input.title);
  const params = Object.entries(input.parameters).map(([k, v]) => [escapeHtml(k), valueCell(v)]);
  const timingEntries = Object.entries(input.timings);
  const total = timingEntries.reduce((s, [, v]) => s + (Number.isFinite(v) ? v : 0), 0);
  const timings = timingEntries.map(([k, v]) => [
    escapeHtml(k),
    fmtSeconds(v),
    total > 0 && Number.isFinite(v) ? fmtPct(v / total) : '—',
  ]);
  if (timingEntries.length > 1) timings.push(['<strong>total</strong>', fmtSeconds(total), '']);
  const figures = plots
    .map(
      (p, i) =>
        `<figure>${inlineSvg(p.svg, `p${i}-`)}<figcaption>${escapeHtml(p.title)} ` +
        `(also <code>${escapeHtml(p.png)}</code>)</figcaption></figure>`,
    )
    .join('\n');
  const notes = (input.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('\n');
  const curves = input.curves
    .map(
      (c, i) =>
        `<details${i === 0 ? ' open' : ''}><summary>${escapeHtml(c.label)} ` +
        `(${c.rows.length} round${c.rows.length === 1 ? '' : 's'})</summary>\n${metricsTable(c)}</details>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="synapse-g ${escapeHtml(version)}">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${title}</h1>
<p class="muted">SYNAPSE-G positive mining report, written by synapse-g ${escapeHtml(version)}.
Metrics count real rows sent to the oracle (seeds excluded); dashed lines are the expectation of
querying at random. A dash (—) marks a value that is not known (e.g. recall without ground truth).</p>
<h2>Summary</h2>
${summary(input.curves)}
<h2>Plots</h2>
<div class="plots">
${figures}
</div>
${notes ? `<h2>Notes</h2>\n<ul class="notes">\n${notes}\n</ul>` : ''}
<h2>Parameters</h2>
${params.length > 0 ? table(['parameter', 'value'], params) : '<p class="muted">None given.</p>'}
<h2>Timings</h2>
${timings.length > 0 ? table(['stage', 'wall-clock', 'share'], timings, 'num') : '<p class="muted">None recorded.</p>'}
<h2>Metrics per round</h2>
${curves}
</body>
</html>
`;
}
