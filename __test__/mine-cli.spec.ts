import test, { type ExecutionContext } from 'ava';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeNpyFloat32 } from '../src/io/vectors';
import { readTable } from '../src/io/table';
import { METRICS_COLUMNS } from '../src/metrics';
import { REPO, runChild } from './helpers/cli';
import { plantedFiles } from './helpers/planted-files';

const DEMO = path.join(REPO, 'data', 'demo');
let cacheDir = '';
test.before(async () => {
  cacheDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-mine-cache-'));
});
test.after.always(() => fsp.rm(cacheDir, { recursive: true, force: true }));

async function tmpDir(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-mine-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

/** The planted corpus as files, with a ground-truth label column. */
async function files(dir: string) {
  const { args } = await plantedFiles(dir, { rows: 600, positives: 30, seeds: 12, seed: 5, text: (i) => `row, ${i}` });
  return { args: [...args, '--oracle', 'column:label=yes'] };
}

test('mine on the shipped demo with the default embedder: metrics, labeled rows, report, PNGs', async (t) => {
  const dir = await tmpDir(t);
  const out = path.join(dir, 'run');
  const r = await runChild(
    ['mine', '--corpus', path.join(DEMO, 'corpus.csv'), '--text-column', 'text', '--id-column', 'id', '--seeds', path.join(DEMO, 'seeds.txt'), '--method', 'gble', '--oracle', 'column:label=positive', '--out', out, '--seed', '1'],
    { SYNAPSE_G_CACHE_DIR: cacheDir },
  );
  t.is(r.code, 0, r.stderr);
  const metrics = await readTable(path.join(out, 'metrics.csv'), { flag: 'metrics', textColumn: 'round', extraColumns: METRICS_COLUMNS.map((c) => ({ column: c, flag: c })) });
  const header = (await fsp.readFile(path.join(out, 'metrics.csv'), 'utf8')).split(/\r?\n/)[0];
  t.is(header, METRICS_COLUMNS.join(','));
  t.true(metrics.texts.length >= 2, 'several rounds');
  const last = metrics.texts.length - 1;
  const recall = Number(metrics.extra.recall[last]);
  const ratio = Number(metrics.extra.query_ratio[last]);
  t.true(ratio <= 0.1 + 1e-9, `default budget 10 %: ${ratio}`);
  t.true(recall > ratio, `GBLE beats random on the demo: recall ${recall} at ${ratio}`);
  const labeled = await readTable(path.join(out, 'labeled.csv'), { flag: 'labeled', textColumn: 'text', idColumn: 'id', extraColumns: ['label', 'round', 'source'].map((c) => ({ column: c, flag: c })) });
  t.is(labeled.extra.source.filter((s) => s === 'seed').length, 100);
  t.is(labeled.extra.source.filter((s) => s === 'oracle').length, Number(metrics.extra.queried[last]));
  t.true(labeled.ids.filter((_, i) => labeled.extra.source[i] === 'oracle').every((id) => id.startsWith('sst2-train-')));
  for (const f of ['report.html', 'run.json', 'recall.png', 'precision.png', 'f1.png']) t.true(existsSync(path.join(out, f)), f);
  t.regex(r.stdout, /round\s+queried\s+query_ratio/);
  t.true(r.stdout.includes(path.join(out, 'report.html')));
  t.false((await fsp.readdir(dir)).some((f) => f.includes('.partial')), 'no temporary folder left');
});

test('the same --seed gives the same files; methods and stop flags', async (t) => {
  const dir = await tmpDir(t);
  const f = await files(dir);
  const outs: string[] = [];
  for (const [i, seed] of [7, 7, 8].entries()) {
    const out = path.join(dir, `out${i}`);
    const r = await runChild(['mine', ...f.args, '--method', 'lr', '--seed', String(seed), '--max-queries', '50', '--num-seeds', '6', '--out', out]);
    t.is(r.code, 0, r.stderr);
    outs.push(out);
  }
  const read = (o: string, n: string) => fsp.readFile(path.join(o, n), 'utf8');
  t.is(await read(outs[0], 'labeled.csv'), await read(outs[1], 'labeled.csv'));
  t.is(await read(outs[0], 'metrics.csv'), await read(outs[1], 'metrics.csv'));
  t.not(await read(outs[0], 'labeled.csv'), await read(outs[2], 'labeled.csv'));
  const metrics = (await read(outs[0], 'metrics.csv')).trim().split('\n');
  t.is(metrics[metrics.length - 1].split(',')[1], '50', '--max-queries cuts the last round');
  const ibg = path.join(dir, 'ibg');
  const r = await runChild(['mine', ...f.args, '--method', 'ibg', '--tau', '0.5', '--dmax', '5', '--rounds', '2', '--out', ibg]);
  t.is(r.code, 0, r.stderr);
  t.is((await read(ibg, 'metrics.csv')).trim().split('\n').length, 3, 'header + 2 rounds');
});

test('bad input: a clear error naming the flag, file or row, non-zero exit, no output folder', async (t) => {
  const dir = await tmpDir(t);
  const f = await files(dir);
  const out = path.join(dir, 'never');
  const dup = path.join(dir, 'dup.csv');
  await fsp.writeFile(dup, 'id,text,label\na,x,yes\na,y,no\n');
  const ragged = path.join(dir, 'ragged.csv');
  await fsp.writeFile(ragged, 'id,text,label\na,x,yes\nb,"y,no\n');
  const short = path.join(dir, 'short.npy');
  await writeNpyFloat32(short, new Float32Array(16 * 10), [10, 16]);
  const swap = (flag: string, value: string) => {
    const a = [...f.args];
    a[a.indexOf(flag) + 1] = value;
    return a;
  };
  const cases: [string[], RegExp, number][] = [
    [[...f.args, '--method', 'magic'], /--method.*magic/s, 2],
    [[...f.args, '--tau', 'abc'], /--tau must be a number/, 2],
    [[...f.args, '--dmax', '0'], /--dmax must be a positive integer/, 2],
    [swap('--text-column', 'body'), /--text-column: no column "body".*columns: "id", "text", "label"/, 1],
    [swap('--oracle', 'label=yes'), /--oracle: expected column:NAME=VALUE/, 1],
    [swap('--oracle', 'column:label=maybe'), /--oracle: no row of column "label" equals "maybe"/, 1],
    [swap('--corpus', dup), /duplicate id "a"/, 1],
    [swap('--corpus', ragged), /ragged\.csv/, 1],
    [swap('--corpus-vectors', short), /--corpus-vectors: has 10 rows but the corpus/, 1],
    [f.args.filter((a, i) => a !== '--seed-vectors' && f.args[i - 1] !== '--seed-vectors'), /give both --corpus-vectors and --seed-vectors/, 1],
    [[...f.args, '--method', 'ibg', '--tau', '0.9999'], /no seed has a corpus neighbour.*lower --tau/s, 1],
  ];
  for (const [args, re, code] of cases) {
    const r = await runChild(['mine', ...args, '--out', out]);
    t.is(r.code, code, `${args.join(' ')}\n${r.stderr}`);
    t.regex(r.stderr, re);
    t.false(existsSync(out), `no output for: ${r.stderr}`);
  }
  t.deepEqual((await fsp.readdir(dir)).filter((n) => n.includes('partial')), []);
  // An existing non-empty --out is refused, and kept intact; --force replaces it.
  await fsp.mkdir(out);
  await fsp.writeFile(path.join(out, 'keep.txt'), 'mine');
  const r = await runChild(['mine', ...f.args, '--out', out]);
  t.is(r.code, 1);
  t.regex(r.stderr, /--out: .* already exists and is not empty/);
  t.is(await fsp.readFile(path.join(out, 'keep.txt'), 'utf8'), 'mine');
  const forced = await runChild(['mine', ...f.args, '--out', out, '--force']);
  t.is(forced.code, 0, forced.stderr);
  t.false(existsSync(path.join(out, 'keep.txt')));
  t.true(existsSync(path.join(out, 'metrics.csv')));
});

test('compare overlays methods over seed draws in one report', async (t) => {
  const dir = await tmpDir(t);
  const f = await files(dir);
  const out = path.join(dir, 'cmp');
  const r = await runChild(['compare', ...f.args, '--methods', 'gble,nn,random', '--draws', '2', '--num-seeds', '6', '--tau', '0.3', '--max-query-ratio', '0.2', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const lines = (await fsp.readFile(path.join(out, 'metrics.csv'), 'utf8')).trim().split('\n');
  t.is(lines[0], ['method', ...METRICS_COLUMNS].join(','));
  const methods = new Set(lines.slice(1).map((l) => l.split(',')[0]));
  t.deepEqual([...methods].sort(), ['gble', 'nn', 'random']);
  const html = await fsp.readFile(path.join(out, 'report.html'), 'utf8');
  for (const m of ['gble', 'nn', 'random']) t.true(html.includes(m), m);
  t.regex(r.stdout, /gble: recall over 2 seed draws \(mean ± std\)/);
  const bad = await runChild(['compare', ...f.args, '--methods', 'gble,nope', '--out', path.join(dir, 'x')]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--methods: unknown method\(s\) "nope"/);
});
