import test, { type ExecutionContext } from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from '../src/errors';
import { formatOf, readTable, writeCsv, type ReadTableOptions } from '../src/io/table';
import * as io from '../src/io/index';
import * as pkg from '../src/index';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-io-table-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

async function file(t: ExecutionContext, name: string, content: string): Promise<string> {
  const f = path.join(await tmp(t), name);
  await fsp.writeFile(f, content);
  return f;
}

/** Assert `readTable` fails with an InvalidArgumentError on `argument` whose message matches every pattern. */
async function fails(t: ExecutionContext, f: string, opts: ReadTableOptions, argument: string | RegExp, ...patterns: RegExp[]): Promise<string> {
  const e = await t.throwsAsync(readTable(f, opts), { instanceOf: InvalidArgumentError });
  const err = e as InvalidArgumentError;
  if (typeof argument === 'string') t.is(err.argument, argument, err.message);
  else t.regex(err.argument, argument, err.message);
  for (const p of patterns) t.regex(err.message, p);
  return err.message;
}

test('exports: src/io/index and the package root re-export the table API', (t) => {
  t.is(io.readTable, readTable);
  t.is(io.writeCsv, writeCsv);
  t.is(pkg.readTable, readTable);
  t.is(pkg.formatOf, formatOf);
});

test('formatOf: by extension, case-insensitive; unknown names the flag', (t) => {
  t.is(formatOf('a.CSV', '--x'), 'csv');
  t.is(formatOf('dir.v1/a.tsv', '--x'), 'tsv');
  t.is(formatOf('a.tab', '--x'), 'tsv');
  t.is(formatOf('a.jsonl', '--x'), 'jsonl');
  t.is(formatOf('a.ndjson', '--x'), 'jsonl');
  t.is(formatOf('a.txt', '--x'), 'txt');
  const e = t.throws(() => formatOf('a.parquet', '--corpus'), { instanceOf: InvalidArgumentError });
  t.is(e?.argument, '--corpus');
  t.regex(e?.message ?? '', /a\.parquet.*\.csv, \.tsv, \.jsonl/);
});

test('CSV: UTF-8 BOM, CRLF, doubled quotes, embedded CRLF/LF newlines, padding kept', async (t) => {
  const f = await file(
    t,
    'in.csv',
    '\uFEFFid,text,label\r\n1,"hello, ""world""",pos\r\n2,"multi\r\nline text",neg\r\n3,plain,neg\r\n4,"  padded  ",pos\r\n5,"a\nb",neg\r\n',
  );
  const tb = await readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', extraColumns: [{ column: 'label', flag: '--oracle' }] });
  t.deepEqual(tb.texts, ['hello, "world"', 'multi\r\nline text', 'plain', '  padded  ', 'a\nb']);
  t.deepEqual(tb.ids, ['1', '2', '3', '4', '5']);
  t.deepEqual(tb.extra, { label: ['pos', 'neg', 'neg', 'pos', 'neg'] });
  t.deepEqual(tb.skipped, []);
  t.is(tb.file, f);
  t.is(tb.format, 'csv');
  t.is(tb.columnLabel, 'column "text"');
  t.is(tb.idLabel, 'column "id"');
  // data rows counted from 1 after the header, even when earlier rows span several lines
  t.deepEqual([0, 2, 4].map((i) => tb.rowLabel(i)), ['row 1', 'row 3', 'row 5']);
  // the BOM is not part of the first header name: "id" was found
});

test('CSV: without an id column, ids are 1-based data row numbers; blank lines are not rows', async (t) => {
  const f = await file(t, 'in.csv', 'text,n\nfirst,1\n\nsecond,2\nthird,3');
  const tb = await readTable(f, { flag: '--corpus', textColumn: 'text' });
  t.deepEqual(tb.texts, ['first', 'second', 'third']);
  t.deepEqual(tb.ids, ['1', '2', '3']);
  t.regex(tb.idLabel, /1-based row numbers/);
  t.deepEqual(tb.extra, {});
});

test('TSV: tab-delimited, commas are plain text, quoted tabs', async (t) => {
  const f = await file(t, 'in.tsv', 'id\ttext\r\na\tone, two\r\nb\t"tab\there"\r\n');
  const tb = await readTable(f, { flag: '--seeds', textColumn: 'text', idColumn: 'id' });
  t.is(tb.format, 'tsv');
  t.deepEqual(tb.texts, ['one, two', 'tab\there']);
  t.deepEqual(tb.ids, ['a', 'b']);
});

test('JSONL: one object per line, blank lines skipped, numbers and booleans as text, rows named by line', async (t) => {
  const f = await file(t, 'in.jsonl', '\uFEFF{"id": 7, "text": "alpha", "y": true}\r\n\r\n{"id": "x", "text": "beta", "y": false}\n   \n{"id": 9, "text": "gamma", "y": 1}\n');
  const tb = await readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', extraColumns: [{ column: 'y', flag: '--oracle' }] });
  t.is(tb.format, 'jsonl');
  t.deepEqual(tb.texts, ['alpha', 'beta', 'gamma']);
  t.deepEqual(tb.ids, ['7', 'x', '9']);
  t.deepEqual(tb.extra.y, ['true', 'false', '1']);
  t.deepEqual([0, 1, 2].map((i) => tb.rowLabel(i)), ['line 1', 'line 3', 'line 5']);
  t.is(tb.columnLabel, 'field "text"');
});

test('JSONL errors: bad JSON and non-objects name the line; a missing field names the flag and lists the fields there', async (t) => {
  const bad = await file(t, 'bad.jsonl', '{"text":"a"}\n\n{"text": oops}\n');
  await fails(t, bad, { flag: '--corpus', textColumn: 'text' }, /bad\.jsonl line 3$/, /not valid JSON/);
  const arr = await file(t, 'arr.jsonl', '["text"]\n');
  await fails(t, arr, { flag: '--corpus', textColumn: 'text' }, /arr\.jsonl line 1$/, /must be a JSON object/);
  const missing = await file(t, 'm.jsonl', '{"text":"a","lbl":1}\n{"body":"b","lbl":0}\n');
  await fails(t, missing, { flag: '--corpus', textColumn: 'text' }, '--text-column', /"text" is missing on line 2 of .*m\.jsonl/, /fields there: "body", "lbl"/);
  await fails(t, missing, { flag: '--corpus', textColumn: 'text', extraColumns: [{ column: 'label', flag: '--oracle' }] }, '--oracle', /"label" is missing on line 1/);
  const nested = await file(t, 'n.jsonl', '{"text":["a"]}\n');
  await fails(t, nested, { flag: '--corpus', textColumn: 'text' }, /n\.jsonl line 1 field text$/, /must be a string, got an array/);
});

test('TXT: one text per line (CRLF or LF), BOM dropped, ids are line numbers; id/extra columns are refused naming the flag', async (t) => {
  const f = await file(t, 'in.txt', '\uFEFFone\r\ntwo, with comma\n"three"\n');
  const tb = await readTable(f, { flag: '--seeds' });
  t.is(tb.format, 'txt');
  t.deepEqual(tb.texts, ['one', 'two, with comma', '"three"']);
  t.deepEqual(tb.ids, ['1', '2', '3']);
  t.is(tb.rowLabel(2), 'line 3');
  await fails(t, f, { flag: '--seeds', idColumn: 'id' }, '--id-column', /not supported for \.txt/);
  await fails(t, f, { flag: '--seeds', idColumn: 'id', idFlag: '--seed-id-column' }, '--seed-id-column');
  await fails(t, f, { flag: '--seeds', extraColumns: [{ column: 'label', flag: '--oracle' }] }, '--oracle', /\.txt/);
});

test('a missing column names the flag and lists the available columns', async (t) => {
  const f = await file(t, 'in.csv', 'id,body,label\n1,x,pos\n');
  await fails(t, f, { flag: '--corpus', textColumn: 'text' }, '--text-column', /no column "text" in .*in\.csv; columns: "id", "body", "label"$/);
  await fails(t, f, { flag: '--seeds', textColumn: 'text', textFlag: '--seed-text-column' }, '--seed-text-column', /columns: "id", "body", "label"/);
  await fails(t, f, { flag: '--corpus', textColumn: 'body', idColumn: 'key' }, '--id-column', /no column "key".*"id", "body", "label"/);
  await fails(t, f, { flag: '--corpus', textColumn: 'body', extraColumns: [{ column: 'gold', flag: '--oracle' }] }, '--oracle', /no column "gold".*"label"/);
  // CSV without --text-column
  await fails(t, f, { flag: '--corpus' }, '--text-column', /required for CSV/);
});

test('a ragged row (more or fewer fields than the header) names the file and the row', async (t) => {
  const more = await file(t, 'more.csv', 'id,text\n1,a\n2,b,extra\n');
  await fails(t, more, { flag: '--corpus', textColumn: 'text' }, /more\.csv row 2$/, /has 3 fields but the header has 2/);
  const fewer = await file(t, 'fewer.tsv', 'id\ttext\tlabel\n1\ta\tx\n2\tb\tx\n3\tc\n');
  await fails(t, fewer, { flag: '--corpus', textColumn: 'text' }, /fewer\.tsv row 3$/, /has 2 fields but the header has 3/, /tab/);
  const quote = await file(t, 'q.csv', 'id,text\n1,"never closed\n2,b\n');
  await fails(t, quote, { flag: '--corpus', textColumn: 'text' }, '--corpus', /q\.csv is not valid CSV/);
});

test('duplicate ids name both rows; requireUniqueIds: false allows them; default ids never clash', async (t) => {
  const f = await file(t, 'in.csv', 'id,text\na,x\nb,y\na,z\n');
  await fails(t, f, { flag: '--corpus', textColumn: 'text', idColumn: 'id' }, /in\.csv row 3$/, /duplicate id "a" \(first on row 1\)/);
  const ok = await readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', requireUniqueIds: false });
  t.deepEqual(ok.ids, ['a', 'b', 'a']);
  const j = await file(t, 'in.jsonl', '{"id":1,"text":"x"}\n{"id":"1","text":"y"}\n');
  await fails(t, j, { flag: '--corpus', textColumn: 'text', idColumn: 'id' }, /in\.jsonl line 2$/, /duplicate id "1" \(first on line 1\)/);
});

test('empty texts: error names file and row; skip drops and reports them with row labels of the kept rows intact; keep keeps them', async (t) => {
  const f = await file(t, 'in.csv', 'id,text,label\nk1,first,1\nk2,"   ",0\nk3,third,1\nk4,,0\nk5,fifth,1\n');
  const msg = await fails(t, f, { flag: '--corpus', textColumn: 'text', idColumn: 'id' }, /in\.csv row 2$/, /column "text" is empty or whitespace-only/);
  t.true(msg.includes(f), msg);
  const s = await readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', emptyTexts: 'skip', extraColumns: [{ column: 'label', flag: '--oracle' }] });
  t.deepEqual(s.texts, ['first', 'third', 'fifth']);
  t.deepEqual(s.ids, ['k1', 'k3', 'k5']);
  t.deepEqual(s.extra.label, ['1', '1', '1']);
  t.deepEqual(s.skipped, [
    { id: 'k2', row: 'row 2' },
    { id: 'k4', row: 'row 4' },
  ]);
  t.deepEqual([0, 1, 2].map((i) => s.rowLabel(i)), ['row 1', 'row 3', 'row 5']);
  const k = await readTable(f, { flag: '--corpus', textColumn: 'text', emptyTexts: 'keep' });
  t.deepEqual(k.texts, ['first', '   ', 'third', '', 'fifth']);
  t.deepEqual(k.skipped, []);
  // a one-column CSV whose empty value is quoted is an empty text, not a blank line
  const one = await file(t, 'one.csv', 'text\na\n""\n');
  await fails(t, one, { flag: '--corpus', textColumn: 'text' }, /one\.csv row 2$/, /empty/);
  // TXT: an empty line is an empty text, named by line
  const txt = await file(t, 'in.txt', 'a\n\nb\n');
  await fails(t, txt, { flag: '--seeds' }, /in\.txt line 2$/, /the line is empty/);
  t.deepEqual((await readTable(txt, { flag: '--seeds', emptyTexts: 'skip' })).skipped, [{ id: '2', row: 'line 2' }]);
});

test('a missing file names the flag and the path', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'nope', 'corpus.csv');
  await fails(t, f, { flag: '--corpus', textColumn: 'text' }, '--corpus', /cannot read ".*nope[\\\\/]corpus\.csv": ENOENT/);
  const empty = path.join(d, 'empty.csv');
  await fsp.writeFile(empty, '');
  await fails(t, empty, { flag: '--corpus', textColumn: 'text' }, '--corpus', /empty \(no header row\)/);
});

test('writeCsv: RFC 4180 quoting, full-precision numbers, NaN empty, atomic; round-trips through readTable', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'sub', 'out.csv');
  const rows: (string | number)[][] = [
    ['a', 'x, "y"', 0.1 + 0.2],
    ['b', 'two\nlines', Number.NaN],
    ['c', 'cr\rhere', 1e-7],
    ['d', '  spaced  ', -0],
    ['e', '', 123456789012345],
    ['f', 'unicode é 漢字 🙂', Number.POSITIVE_INFINITY],
  ];
  await writeCsv(f, ['id', 'text', 'v'], rows);
  const raw = await fsp.readFile(f, 'utf8');
  t.true(raw.startsWith('id,text,v\n'), raw);
  t.true(raw.includes('a,"x, ""y""",0.30000000000000004\n'), raw);
  t.true(raw.includes('b,"two\nlines",\n'), raw);
  t.true(raw.includes('"cr\rhere"'), raw);
  t.true(raw.endsWith('\n'), raw);
  t.deepEqual((await fsp.readdir(path.dirname(f))).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
  const tb = await readTable(f, { flag: 'f', textColumn: 'text', idColumn: 'id', emptyTexts: 'keep', extraColumns: [{ column: 'v', flag: 'v' }] });
  t.deepEqual(tb.ids, ['a', 'b', 'c', 'd', 'e', 'f']);
  t.deepEqual(tb.texts, ['x, "y"', 'two\nlines', 'cr\rhere', '  spaced  ', '', 'unicode é 漢字 🙂']);
  t.deepEqual(tb.extra.v, ['0.30000000000000004', '', '1e-7', '0', '123456789012345', 'Infinity']);
  t.is(Number(tb.extra.v[0]), 0.1 + 0.2, 'full precision');
});

test('writeCsv: a one-column table keeps empty values; a row of the wrong width is refused; overwrite replaces', async (t) => {
  const f = path.join(await tmp(t), 'one.csv');
  await writeCsv(f, ['text'], [['a'], [''], ['b']]);
  const tb = await readTable(f, { flag: 'f', textColumn: 'text', emptyTexts: 'skip' });
  t.deepEqual(tb.texts, ['a', 'b']);
  t.deepEqual(tb.skipped, [{ id: '2', row: 'row 2' }]);
  const e = await t.throwsAsync(writeCsv(f, ['a', 'b'], [['1', '2'], ['3']]), { instanceOf: InvalidArgumentError });
  t.regex(e?.message ?? '', /row 2 has 1 fields but the header has 2/);
  t.deepEqual((await readTable(f, { flag: 'f', textColumn: 'text', emptyTexts: 'keep' })).texts, ['a', '', 'b'], 'failed write left the old file');
  await writeCsv(f, ['text'], (function* () {
    yield ['from a generator'];
  })());
  t.deepEqual((await readTable(f, { flag: 'f', textColumn: 'text' })).texts, ['from a generator']);
});
