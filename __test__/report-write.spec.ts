import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { renderAsync } from '@resvg/resvg-js';
import { InvalidArgumentError, writeReport } from '../src/index';
import type { ReportCurve, ReportInput } from '../src/index';
import { metricsRow } from '../src/metrics';
import type { MetricsRow } from '../src/metrics';
import { canDrawText, metricPlot } from '../src/report/plots';

const N = 10_000;
const P = 1_000;

/** A made-up mining curve: `gain` positives per queried row in round 1, falling off. */
function curve(label: string, gain: number, total: number | null = P): ReportCurve {
  const rows: MetricsRow[] = [];
  let pos = 0;
  for (let r = 1; r <= 6; r++) {
    pos = Math.min(P, Math.round(pos + (300 * gain) / r));
    rows.push(metricsRow(r, 300 * r, pos, N, total ?? undefined));
  }
  return { label, rows };
}

function input(curves: ReportCurve[], extra: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'Mining <SST-2> & friends',
    parameters: { method: 'gble', tau: 0.8, d_max: 50, seeds: 'acs', weighted: false },
    timings: { embed: 12.5, graph: 0.75, rounds: 3.25 },
    curves,
    notes: ['ACS reached coverage 0.50 at t = 0.81 <ok>'],
    ...extra,
  };
}

function tmp(t: { title: string }): string {
  return mkdtempSync(path.join(tmpdir(), `report-${t.title.replace(/\W+/g, '-').slice(0, 30)}-`));
}

/** Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced), enough to look at the plots' pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: (x: number, y: number) => number[] } {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(sig)) throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unsupported depth or interlace');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (channels === 0) throw new Error(`unsupported colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= channels ? px[y * stride + i - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = i >= channels && y > 0 ? px[(y - 1) * stride + i - channels] : 0;
      let v: number;
      if (f === 0) v = x;
      else if (f === 1) v = x + a;
      else if (f === 2) v = x + b;
      else if (f === 3) v = x + ((a + b) >> 1);
      else {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      px[y * stride + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    rgba: (x, y) => [...px.subarray(y * stride + x * channels, y * stride + (x + 1) * channels)],
  };
}

/** Number of pixels within `tol` of colour `hex` in the region (all of the image by default). */
function countColour(
  img: ReturnType<typeof decodePng>,
  hex: string,
  tol = 12,
  region = { x0: 0, y0: 0, x1: img.width, y1: img.height },
): number {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0; x < region.x1; x++) {
      const p = img.rgba(x, y);
      if (want.every((w, i) => Math.abs(w - p[i]) <= tol)) n++;
    }
  }
  return n;
}

test('writeReport writes a self-contained report.html and four PNG plots', async (t) => {
  const dir = tmp(t);
  const a = curve('gble (acs seeds)', 0.6);
  a.recallBand = {
    query_ratio: a.rows.map((r) => r.query_ratio),
    low: a.rows.map((r) => r.recall * 0.9),
    high: a.rows.map((r) => r.recall * 1.1),
  };
  const files = await writeReport(dir, input([a, curve('bipartite (random seeds)', 0.35)]));
  t.is(files.html, path.join(dir, 'report.html'));
  t.deepEqual(
    files.pngs.map((p) => path.basename(p)),
    ['recall.png', 'precision.png', 'f1.png', 'precision-recall.png'],
  );
  t.deepEqual(readdirSync(dir).sort(), [
    'f1.png',
    'precision-recall.png',
    'precision.png',
    'recall.png',
    'report.html',
  ]); // no temp files left behind
  const html = readFileSync(files.html, 'utf8');
  t.true(html.startsWith('<!DOCTYPE html>'));
  t.true(html.includes('<title>Mining &lt;SST-2&gt; &amp; friends</title>'));
  for (const cell of ['<td>method</td><td>gble</td>', '<td>tau</td><td>0.8</td>', '<td>d_max</td><td>50</td>', '<td>weighted</td><td>false</td>']) {
    t.true(html.includes(cell), cell);
  }
  t.true(html.includes('<td>embed</td><td>12.50 s</td>'));
  t.true(html.includes('<td><strong>total</strong></td><td>16.50 s</td>'));
  t.true(html.includes('ACS reached coverage 0.50 at t = 0.81 &lt;ok&gt;'));
  t.true(html.includes('gble (acs seeds)') && html.includes('bipartite (random seeds)'));
  // Metrics table: one row per round per curve, with the CSV column names as headers.
  t.true(html.includes('<th>random_precision</th>'));
  t.is((html.match(/<tr><td>6<\/td><td>1800<\/td>/g) ?? []).length, 2);
  // Self-contained: inline SVG plots, no scripts, no external resources of any kind.
  t.is((html.match(/<svg\b/g) ?? []).length, 4);
  t.false(/https?:\/\//.test(html), 'no URL at all');
  t.false(/<script|<link|<img|<iframe|@import/i.test(html));
  t.false(/url\((?!#)/.test(html), 'only in-document url(#id) references');
  // Each inlined SVG is still a valid SVG (resvg parses and draws it once the namespace is back).
  for (const m of html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)) {
    const svg = m[0].replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"');
    const png = await renderAsync(svg, { fitTo: { mode: 'zoom', value: 0.25 } });
    t.true(png.width > 100 && png.height > 60);
  }
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  t.is(new Set(ids).size, ids.length, 'ids are unique across the inlined plots');
  for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) t.true(ids.includes(ref[1]), ref[1]);
});

test('PNGs are valid, sized as expected, and draw lines, band and text', async (t) => {
  const dir = tmp(t);
  const a = curve('gble', 0.6);
  a.recallBand = {
    query_ratio: a.rows.map((r) => r.query_ratio),
    low: a.rows.map((r) => Math.max(0, r.recall - 0.1)),
    high: a.rows.map((r) => r.recall + 0.1),
  };
  const files = await writeReport(dir, input([a, curve('random seeds', 0.3)]));
  for (const f of files.pngs) {
    const buf = readFileSync(f);
    t.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    t.is(buf.toString('latin1', 12, 16), 'IHDR');
    const w = buf.readUInt32BE(16);
    const h = buf.readUInt32BE(20);
    t.true(w >= 1000 && w <= 1600, `${path.basename(f)} width ${w}`);
    t.true(h >= 600 && h <= 1200, `${path.basename(f)} height ${h}`);
  }
  const recall = decodePng(readFileSync(files.pngs[0]));
  t.true(countColour(recall, '#4c78a8') > 200, 'first curve drawn in its colour');
  t.true(countColour(recall, '#f58518') > 200, 'second curve drawn in its colour');
  t.true(countColour(recall, '#444444', 20) > 100, 'random expectation drawn');
  // The band: the first colour at 18% opacity over white.
  t.true(countColour(recall, '#dee4ee', 6) > 2000, 'recall band drawn');
  // Text (the title, top left) is rendered: a font was found.
  const dark = countColour(recall, '#000000', 60, { x0: 0, y0: 0, x1: 600, y1: 50 });
  t.true(dark > 300, `title pixels ${dark}`);
  // A smaller scale gives a smaller image.
  const small = await writeReport(tmp(t), input([a]), { pngScale: 1 });
  const s = decodePng(readFileSync(small.pngs[0]));
  t.true(s.width < recall.width * 0.6 && s.width > recall.width * 0.4);
});

test('a curve without ground truth (NaN recall) still renders', async (t) => {
  const dir = tmp(t);
  const c = curve('production run', 0.5, null);
  t.true(Number.isNaN(c.rows[0].recall));
  const files = await writeReport(dir, input([c], { parameters: {}, timings: {}, notes: undefined }));
  const html = readFileSync(files.html, 'utf8');
  t.true(html.includes('Recall needs ground truth'));
  t.true(html.includes('<td>—</td>'));
  t.true(html.includes('None given.'));
  // Inside the plot area (the legend below it shows the curve's colour either way).
  const area = { x0: 230, y0: 100, x1: 1200, y1: 700 };
  const recall = decodePng(readFileSync(files.pngs[0]));
  t.is(countColour(recall, '#4c78a8', 12, area), 0, 'no recall line');
  const precision = decodePng(readFileSync(files.pngs[1]));
  t.true(countColour(precision, '#4c78a8', 12, area) > 200, 'precision is known and drawn');
  t.is(countColour(precision, '#444444', 20, area), 0, 'no random line without a base rate');
});

test('plot specs: random expectation and band data', (t) => {
  const a = curve('a', 0.6);
  a.recallBand = { query_ratio: [0.03, 0.06], low: [0.1, Number.NaN], high: [0.2, 0.3] };
  const layers = (spec: unknown) =>
    (spec as { layer: Array<{ data: { values: Array<Record<string, unknown>> } }> }).layer;
  const recall = layers(metricPlot([a], 'recall').spec);
  t.deepEqual(recall[0].data.values.map((v) => [v.x, v.lo, v.hi]), [[0.03, 0.1, 0.2]]);
  const rnd = recall[1].data.values.filter((v) => v.kind === 'random');
  t.true(rnd.length >= 2 && rnd.every((v) => v.x === v.y), 'random recall = query ratio');
  const precision = layers(metricPlot([a], 'precision').spec);
  const rp = precision[0].data.values.filter((v) => v.kind === 'random');
  t.true(rp.every((v) => Math.abs((v.y as number) - 0.1) < 1e-12), 'random precision = base rate');
  const f1 = layers(metricPlot([a], 'f1').spec)[0].data.values.filter((v) => v.kind === 'random');
  const at = f1.find((v) => Math.abs((v.x as number) - 0.1) < 1e-3) ?? f1[f1.length - 1];
  const x = at.x as number;
  t.true(Math.abs((at.y as number) - (2 * 0.1 * x) / (0.1 + x)) < 1e-12);
});

test('duplicate labels are numbered; rewriting a report replaces it atomically', async (t) => {
  const dir = tmp(t);
  await writeReport(dir, input([curve('x', 0.5)]));
  const files = await writeReport(dir, input([curve('same', 0.5), curve('same', 0.3)], { title: 'Second' }));
  const html = readFileSync(files.html, 'utf8');
  t.true(html.includes('<title>Second</title>'));
  t.true(html.includes('same (2)'));
  t.is(readdirSync(dir).length, 5);
  rmSync(dir, { recursive: true });
});

test('writeReport rejects bad input naming it', async (t) => {
  const dir = tmp(t);
  const ok = input([curve('a', 0.5)]);
  const bad: Array<[string, unknown, string]> = [
    ['', ok, 'dir'],
    [dir, { ...ok, curves: [] }, 'input.curves'],
    [dir, { ...ok, title: 3 }, 'input.title'],
    [dir, { ...ok, timings: { embed: -1 } }, 'input.timings.embed'],
    [dir, { ...ok, parameters: { p: { nested: 1 } } }, 'input.parameters.p'],
    [dir, { ...ok, notes: 'one note' }, 'input.notes'],
    [dir, { ...ok, curves: [{ label: '', rows: [] }] }, 'input.curves[0].label'],
    [
      dir,
      { ...ok, curves: [{ label: 'a', rows: [{ ...curve('a', 0.5).rows[0], recall: undefined }] }] },
      'input.curves[0].rows[0].recall',
    ],
    [
      dir,
      { ...ok, curves: [{ ...curve('a', 0.5), recallBand: { query_ratio: [0.1], low: [], high: [0.2] } }] },
      'input.curves[0].recallBand',
    ],
  ];
  for (const [d, inp, arg] of bad) {
    const e = await t.throwsAsync(writeReport(d, inp as ReportInput), { instanceOf: InvalidArgumentError });
    t.is((e as InvalidArgumentError).argument, arg);
  }
  const e = await t.throwsAsync(writeReport(dir, ok, { pngScale: 0 }), { instanceOf: InvalidArgumentError });
  t.is((e as InvalidArgumentError).argument, 'pngScale');
  t.deepEqual(readdirSync(dir), [], 'nothing written on bad input');
});

test('the font probe tells whether PNG text can be drawn', async (t) => {
  t.false(await canDrawText([], false), 'no fonts at all: no text');
  const dejavu = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  t.true(await canDrawText([dejavu], false), 'an explicit font file is used');
  t.true(await canDrawText(), 'system fonts (scripts/setup-system.sh installs DejaVu)');
  const warnings: string[] = [];
  await writeReport(tmp(t), input([curve('a', 0.5)]), { onWarning: (m) => warnings.push(m) });
  t.deepEqual(warnings, []);
});
