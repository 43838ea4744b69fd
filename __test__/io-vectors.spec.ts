import test, { type ExecutionContext } from 'ava';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from '../src/errors';
import { readVectors, writeNpyFloat32, type ReadVectorsOptions } from '../src/io/vectors';
import * as io from '../src/io/index';
import * as pkg from '../src/index';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-io-vectors-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

/** A hand-built `.npy`: header padded so data starts on a 64-byte boundary (any version). */
function npy(descr: string, shape: string, body: Buffer, opts: { fortran?: boolean; version?: 1 | 2 | 3 } = {}): Buffer {
  const version = opts.version ?? 1;
  const pre = version === 1 ? 10 : 12;
  let dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape}), }`;
  dict += ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n';
  const h = Buffer.alloc(pre);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = version;
  h[7] = 0;
  if (version === 1) h.writeUInt16LE(dict.length, 8);
  else h.writeUInt32LE(dict.length, 8);
  return Buffer.concat([h, Buffer.from(dict, version === 3 ? 'utf8' : 'latin1'), body]);
}

function f64(values: number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeDoubleLE(v, 8 * i));
  return b;
}

function f32(values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return b;
}

async function fails(t: ExecutionContext, file: string, opts: ReadVectorsOptions, argument: string, ...patterns: RegExp[]): Promise<string> {
  const e = await t.throwsAsync(readVectors(file, opts), { instanceOf: InvalidArgumentError });
  const err = e as InvalidArgumentError;
  t.is(err.argument, argument, err.message);
  for (const p of patterns) t.regex(err.message, p);
  return err.message;
}

test('exports: src/io/index and the package root re-export the vector API', (t) => {
  t.is(io.readVectors, readVectors);
  t.is(io.writeNpyFloat32, writeNpyFloat32);
  t.is(pkg.readVectors, readVectors);
  t.is(pkg.writeNpyFloat32, writeNpyFloat32);
});

test('.npy float32: writeNpyFloat32 round trip (64-byte aligned v1 header), values unnormalised', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'a.npy');
  const data = Float32Array.from([3, 4, 0.1, -1e-3, 1e30, 7, 8, 9, 10, 11, 12, 13].slice(0, 12));
  await writeNpyFloat32(f, data, [4, 3]);
  const buf = await fsp.readFile(f);
  t.is(buf.toString('latin1', 0, 6), '\x93NUMPY');
  t.is(buf[6], 1);
  t.is((10 + buf.readUInt16LE(8)) % 64, 0);
  t.is(buf.length, 10 + buf.readUInt16LE(8) + 4 * 12);
  const m = await readVectors(f, { flag: '--corpus-vectors', rows: 4, dim: 3 });
  t.is(m.rows, 4);
  t.is(m.dim, 3);
  t.true(m.data instanceof Float32Array);
  t.deepEqual(Array.from(m.data), Array.from(data), 'bit-exact, not L2-normalised');
});

test('.npy float64 is converted to float32; v2 and v3 headers are read', async (t) => {
  const d = await tmp(t);
  const vals = [1, 2.5, -3, 0.1, 1e-8, 6];
  await fsp.writeFile(path.join(d, 'b.npy'), npy('<f8', '3, 2', f64(vals)));
  const b = await readVectors(path.join(d, 'b.npy'), { flag: '--v' });
  t.deepEqual([b.rows, b.dim], [3, 2]);
  t.deepEqual(Array.from(b.data), Array.from(Float32Array.from(vals)));
  await fsp.writeFile(path.join(d, 'v2.npy'), npy('<f4', '2, 2', f32([1, 2, 3, 4]), { version: 2 }));
  t.deepEqual(Array.from((await readVectors(path.join(d, 'v2.npy'), { flag: '--v' })).data), [1, 2, 3, 4]);
  await fsp.writeFile(path.join(d, 'v3.npy'), npy('<f8', '1, 3', f64([5, 6, 7]), { version: 3 }));
  const v3 = await readVectors(path.join(d, 'v3.npy'), { flag: '--v' });
  t.deepEqual([v3.rows, v3.dim, Array.from(v3.data)], [1, 3, [5, 6, 7]]);
  // a value beyond float32's range becomes Infinity after conversion and is refused
  await fsp.writeFile(path.join(d, 'big.npy'), npy('<f8', '1, 2', f64([1, 1e300])));
  await fails(t, path.join(d, 'big.npy'), { flag: '--v' }, '--v', /row 1, column 2 is Infinity/);
});

test('.npy header problems: Fortran order, other dtypes, not 2-D, bad magic, truncated data', async (t) => {
  const d = await tmp(t);
  const p = (n: string) => path.join(d, n);
  await fsp.writeFile(p('f.npy'), npy('<f4', '2, 2', f32([1, 2, 3, 4]), { fortran: true }));
  await fails(t, p('f.npy'), { flag: '--corpus-vectors' }, '--corpus-vectors', /f\.npy is in Fortran order/, /C order/);
  for (const dtype of ['<i4', '>f4', '<f2', '|u1']) {
    await fsp.writeFile(p('i.npy'), npy(dtype, '1, 2', Buffer.alloc(16)));
    await fails(t, p('i.npy'), { flag: '--v' }, '--v', new RegExp(`dtype "${dtype.replace('|', '\\|')}"`), /'<f4'.*'<f8'/);
  }
  await fsp.writeFile(p('one.npy'), npy('<f4', '4,', f32([1, 2, 3, 4])));
  await fails(t, p('one.npy'), { flag: '--v' }, '--v', /shape \(4,\); expected 2-D/);
  await fsp.writeFile(p('three.npy'), npy('<f4', '1, 2, 2', f32([1, 2, 3, 4])));
  await fails(t, p('three.npy'), { flag: '--v' }, '--v', /expected 2-D/);
  await fsp.writeFile(p('magic.npy'), Buffer.from('not a numpy file at all'));
  await fails(t, p('magic.npy'), { flag: '--v' }, '--v', /not a \.npy file/);
  await fsp.writeFile(p('short.npy'), npy('<f4', '2, 2', f32([1, 2, 3])));
  await fails(t, p('short.npy'), { flag: '--v' }, '--v', /truncated/);
  await fsp.writeFile(p('empty.npy'), npy('<f4', '0, 4', Buffer.alloc(0)));
  await fails(t, p('empty.npy'), { flag: '--v' }, '--v', /holds no vectors/);
});

test('.f32: raw little-endian float32 with dim; without dim names the dim flag; length must be whole rows', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'c.f32');
  await fsp.writeFile(f, f32([1, 2, 3, 4, 5, 6]));
  const m = await readVectors(f, { flag: '--v', dim: 2 });
  t.deepEqual([m.rows, m.dim, Array.from(m.data)], [3, 2, [1, 2, 3, 4, 5, 6]]);
  const m3 = await readVectors(f, { flag: '--v', dim: 3, rows: 2 });
  t.deepEqual([m3.rows, m3.dim], [2, 3]);
  await fails(t, f, { flag: '--v' }, '--dim', /needed to read raw float32/);
  await fails(t, f, { flag: '--v', dimFlag: '--vector-dim' }, '--vector-dim');
  await fails(t, f, { flag: '--v', dim: 4 }, '--v', /24 bytes, not a whole number of 4-d float32 rows/);
  await fails(t, f, { flag: '--v', dim: 0, dimFlag: '--vector-dim' }, '--vector-dim', /positive integer/);
});

test('.jsonl: an "embedding" array per line, blank lines skipped; bad lines named', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'e.jsonl');
  await fsp.writeFile(f, '{"id": 1, "embedding": [1, 2, 3]}\r\n\n{"embedding": [4.5, -5, 6e-3]}\n');
  const m = await readVectors(f, { flag: '--v' });
  t.deepEqual([m.rows, m.dim], [2, 3]);
  t.deepEqual(Array.from(m.data), Array.from(Float32Array.from([1, 2, 3, 4.5, -5, 6e-3])));
  const ragged = path.join(d, 'r.jsonl');
  await fsp.writeFile(ragged, '{"embedding":[1,2]}\n{"embedding":[3]}\n');
  const e = await t.throwsAsync(readVectors(ragged, { flag: '--v' }), { instanceOf: InvalidArgumentError });
  t.regex(e?.message ?? '', /r\.jsonl line 2: has 1 values; earlier lines have 2/);
  const noField = path.join(d, 'n.jsonl');
  await fsp.writeFile(noField, '{"vector":[1,2]}\n');
  const e2 = await t.throwsAsync(readVectors(noField, { flag: '--v' }), { instanceOf: InvalidArgumentError });
  t.regex(e2?.message ?? '', /n\.jsonl line 1: needs an "embedding" field/);
  const badJson = path.join(d, 'b.jsonl');
  await fsp.writeFile(badJson, '{"embedding":[1,2]}\n{"embedding":[1,\n');
  const e3 = await t.throwsAsync(readVectors(badJson, { flag: '--v' }), { instanceOf: InvalidArgumentError });
  t.regex(e3?.message ?? '', /b\.jsonl line 2: is not valid JSON/);
});

test('non-finite values name the file, the 1-based row and column', async (t) => {
  const d = await tmp(t);
  const nan = path.join(d, 'nan.npy');
  await writeNpyFloat32(nan, Float32Array.from([0, 1, 2, 3, 4, Number.NaN]), [2, 3]);
  const msg = await fails(t, nan, { flag: '--seed-vectors' }, '--seed-vectors', /row 2, column 3 is NaN/);
  t.true(msg.includes(nan), msg);
  const inf = path.join(d, 'inf.f32');
  await fsp.writeFile(inf, f32([1, 2, Number.NEGATIVE_INFINITY, 4]));
  await fails(t, inf, { flag: '--v', dim: 2 }, '--v', /inf\.f32 row 2, column 1 is -Infinity/);
  const nul = path.join(d, 'null.jsonl');
  await fsp.writeFile(nul, '{"embedding":[1,2]}\n{"embedding":[3,null]}\n');
  await fails(t, nul, { flag: '--v' }, '--v', /null\.jsonl row 2, column 2 is NaN/);
});

test('rows and dim must match what the caller expects', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'a.npy');
  await writeNpyFloat32(f, new Float32Array(99 * 4).fill(0.5), [99, 4]);
  const msg = await fails(t, f, { flag: '--corpus-vectors', rows: 100, rowsLabel: 'the corpus (--corpus)' }, '--corpus-vectors');
  t.is(msg, '--corpus-vectors: has 99 rows but the corpus (--corpus) has 100');
  await fails(t, f, { flag: '--corpus-vectors', rows: 100 }, '--corpus-vectors', /has 99 rows but the input has 100/);
  t.is((await readVectors(f, { flag: '--corpus-vectors', rows: 99 })).rows, 99);
  await fails(t, f, { flag: '--seed-vectors', dim: 384 }, '--seed-vectors', /a\.npy has dimension 4, expected 384/);
  await fails(t, f, { flag: '--v', dim: 8, dimFlag: '--dim' }, '--v', /expected 8 \(--dim\)/);
});

test('unknown extension and missing file name the flag', async (t) => {
  const d = await tmp(t);
  await fails(t, path.join(d, 'a.csv'), { flag: '--corpus-vectors' }, '--corpus-vectors', /cannot tell the format.*\.npy, \.f32/);
  await fails(t, path.join(d, 'missing.npy'), { flag: '--corpus-vectors' }, '--corpus-vectors', /cannot read ".*missing\.npy": ENOENT/);
});

test('writeNpyFloat32: 1-D shapes get a trailing comma; a subarray view writes only its own bytes', async (t) => {
  const d = await tmp(t);
  const f = path.join(d, 'v.npy');
  const backing = Float32Array.from([9, 1, 2, 3, 9]);
  await writeNpyFloat32(f, backing.subarray(1, 4), [3]);
  const buf = await fsp.readFile(f);
  const hlen = buf.readUInt16LE(8);
  t.regex(buf.toString('latin1', 10, 10 + hlen), /'shape': \(3,\)/);
  t.deepEqual(Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length))), [1, 2, 3]);
});
