import test, { type ExecutionContext } from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, readTable, readVectors, writeCsv, writeNpyFloat32 } from '../src/index';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-io-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

test('CSV: BOM, CRLF, quotes, embedded newlines, ids and an extra column', async (t) => {
  const f = path.join(await tmp(t), 'a.csv');
  await fsp.writeFile(f, '\ufeffid,text,label\r\nx1,"hello, ""world""",pos\r\nx2,"two\nlines",neg\r\n');
  const tb = await readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', extraColumns: [{ column: 'label', flag: '--oracle' }] });
  t.deepEqual(tb.texts, ['hello, "world"', 'two\nlines']);
  t.deepEqual(tb.ids, ['x1', 'x2']);
  t.deepEqual(tb.extra.label, ['pos', 'neg']);
  t.is(tb.rowLabel(1), 'row 2');
});

test('TSV, JSONL and TXT', async (t) => {
  const d = await tmp(t);
  await fsp.writeFile(path.join(d, 'a.tsv'), 'text\tid\nfirst\t1\nsecond\t2\n');
  await fsp.writeFile(path.join(d, 'a.jsonl'), '{"text":"a","n":3}\n\n{"text":"b","n":4}\n');
  await fsp.writeFile(path.join(d, 'a.txt'), 'one\r\ntwo\n');
  t.deepEqual((await readTable(path.join(d, 'a.tsv'), { flag: 'f', textColumn: 'text' })).texts, ['first', 'second']);
  const j = await readTable(path.join(d, 'a.jsonl'), { flag: 'f', textColumn: 'text', idColumn: 'n' });
  t.deepEqual([j.texts, j.ids, j.rowLabel(1)], [['a', 'b'], ['3', '4'], 'line 3']);
  const x = await readTable(path.join(d, 'a.txt'), { flag: 'f' });
  t.deepEqual([x.texts, x.ids], [['one', 'two'], ['1', '2']]);
});

test('table errors name the flag, file, row and columns', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'a.csv');
  await fsp.writeFile(f, 'id,text\na,x\nb,  \na,z\n');
  const err = async (p: Promise<unknown>, re: RegExp) => {
    const e = await t.throwsAsync(p, { instanceOf: InvalidArgumentError });
    t.regex(e?.message ?? '', re);
  };
  await err(readTable(f, { flag: '--corpus', textColumn: 'body' }), /^--text-column: no column "body" in .*columns: "id", "text"/);
  await err(readTable(f, { flag: '--corpus', textColumn: 'text', extraColumns: [{ column: 'y', flag: '--oracle' }] }), /^--oracle: no column "y"/);
  await err(readTable(f, { flag: '--corpus', textColumn: 'text' }), /a\.csv row 2: column "text" is empty or whitespace-only.*--skip-empty/);
  const skipped = await readTable(f, { flag: '--corpus', textColumn: 'text', emptyTexts: 'skip' });
  t.deepEqual(skipped.skipped, [{ id: '2', row: 'row 2' }]);
  t.deepEqual(skipped.texts, ['x', 'z']);
  t.is(skipped.rowLabel(1), 'row 3');
  await err(readTable(f, { flag: '--corpus', textColumn: 'text', idColumn: 'id', emptyTexts: 'keep' }), /a\.csv row 3: duplicate id "a" \(first on row 1\)/);
  await fsp.writeFile(f, 'id,text\na,x,extra\n');
  await err(readTable(f, { flag: '--corpus', textColumn: 'text' }), /a\.csv row 1: has 3 fields but the header has 2/);
  await err(readTable(path.join(d, 'missing.csv'), { flag: '--corpus', textColumn: 'text' }), /^--corpus: cannot read .*ENOENT/);
  await err(readTable(path.join(d, 'a.xlsx'), { flag: '--corpus', textColumn: 'text' }), /^--corpus: cannot tell the format/);
  await fsp.writeFile(path.join(d, 'b.jsonl'), '{"text":"a"}\n{"text":\n');
  await err(readTable(path.join(d, 'b.jsonl'), { flag: '--seeds', textColumn: 'text' }), /b\.jsonl line 2: is not valid JSON/);
  await err(readTable(path.join(d, 'b.txt'), { flag: '--seeds', idColumn: 'id' }), /^--id-column: is not supported for \.txt/);
});

test('writeCsv round-trips through readTable (quotes, commas, newlines, NaN empty)', async (t) => {
  const f = path.join(await tmp(t), 'out.csv');
  await writeCsv(f, ['id', 'text', 'v'], [['a', 'x, "y"', 1.5], ['b', 'two\nlines', Number.NaN]]);
  const tb = await readTable(f, { flag: 'f', textColumn: 'text', idColumn: 'id', extraColumns: [{ column: 'v', flag: 'v' }] });
  t.deepEqual(tb.texts, ['x, "y"', 'two\nlines']);
  t.deepEqual(tb.extra.v, ['1.5', '']);
});

function npy(descr: string, shape: string, body: Buffer, fortran = 'False'): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape}), }`;
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1;
  h.writeUInt16LE(dict.length, 8);
  return Buffer.concat([h, Buffer.from(dict, 'latin1'), body]);
}

test('vectors: .npy float32/float64, .f32 with dim, JSONL; validation names row and column', async (t) => {
  const d = await tmp(t);
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  await writeNpyFloat32(path.join(d, 'a.npy'), data, [2, 3]);
  const a = await readVectors(path.join(d, 'a.npy'), { flag: '--v', rows: 2 });
  t.deepEqual([Array.from(a.data), a.rows, a.dim], [[1, 2, 3, 4, 5, 6], 2, 3]);
  const f8 = Buffer.alloc(48);
  [1, 2, 3, 4, 5, 6].forEach((v, i) => f8.writeDoubleLE(v, 8 * i));
  await fsp.writeFile(path.join(d, 'b.npy'), npy('<f8', '3, 2', f8));
  const b = await readVectors(path.join(d, 'b.npy'), { flag: '--v' });
  t.deepEqual([Array.from(b.data), b.rows, b.dim], [[1, 2, 3, 4, 5, 6], 3, 2]);
  await fsp.writeFile(path.join(d, 'c.f32'), Buffer.from(data.buffer));
  t.is((await readVectors(path.join(d, 'c.f32'), { flag: '--v', dim: 2 })).rows, 3);
  await fsp.writeFile(path.join(d, 'e.jsonl'), '{"embedding":[1,2]}\n{"embedding":[3,4]}\n');
  t.deepEqual(Array.from((await readVectors(path.join(d, 'e.jsonl'), { flag: '--v' })).data), [1, 2, 3, 4]);

  const err = async (file: string, opts: Parameters<typeof readVectors>[1], re: RegExp) => {
    const e = await t.throwsAsync(readVectors(path.join(d, file), opts), { instanceOf: InvalidArgumentError });
    t.regex(e?.message ?? '', re);
  };
  await err('a.npy', { flag: '--corpus-vectors', rows: 5, rowsLabel: 'the corpus' }, /^--corpus-vectors: has 2 rows but the corpus has 5/);
  await err('a.npy', { flag: '--v', dim: 4 }, /dimension 3, expected 4/);
  await err('c.f32', { flag: '--v' }, /^--dim: is needed/);
  await err('c.f32', { flag: '--v', dim: 4 }, /not a whole number of 4-d float32 rows/);
  await fsp.writeFile(path.join(d, 'f.npy'), npy('<f4', '1, 2', Buffer.alloc(8), 'True'));
  await err('f.npy', { flag: '--v' }, /Fortran order/);
  await fsp.writeFile(path.join(d, 'i.npy'), npy('<i4', '1, 2', Buffer.alloc(8)));
  await err('i.npy', { flag: '--v' }, /dtype "<i4"/);
  await writeNpyFloat32(path.join(d, 'nan.npy'), Float32Array.from([0, 1, 2, Number.NaN]), [2, 2]);
  await err('nan.npy', { flag: '--seed-vectors' }, /^--seed-vectors: .*nan\.npy row 2, column 2 is NaN/);
  await fsp.writeFile(path.join(d, 'r.jsonl'), '{"embedding":[1,2]}\n{"embedding":[3]}\n');
  await err('r.jsonl', { flag: '--v' }, /r\.jsonl line 2: has 1 values; earlier lines have 2/);
});
