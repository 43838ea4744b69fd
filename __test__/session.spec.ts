import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJournal, openJournal, SynapseError } from '../src/index';
import { REPO, runChild } from './helpers/cli';
import { plantedFiles } from './helpers/planted-files';

async function tmp(t: ExecutionContext): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-session-'));
  t.teardown(() => fsp.rm(d, { recursive: true, force: true }));
  return d;
}

interface ChildOut {
  labeled: [string, boolean, number][];
  asked: number;
  fromJournal: number;
}

const CHILD = path.join(REPO, '__test__', 'helpers', 'journal-child.ts');

function start(file: string, mode: 'start' | 'resume', delayMs: number) {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, file, mode, String(delayMs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
    p.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { p, done };
}

async function answerLines(file: string): Promise<number> {
  try {
    return (await fsp.readFile(file, 'utf8')).split('\n').filter((l) => l.includes('"answer"')).length;
  } catch {
    return 0;
  }
}

test('kill -9 at several points, then resume: nothing asked twice, nothing lost, same labeled set', async (t) => {
  const dir = await tmp(t);
  const full = start(path.join(dir, 'full.jsonl'), 'start', 5);
  const ref = await full.done;
  t.is(ref.code, 0, ref.err);
  const want = JSON.parse(ref.out) as ChildOut;
  t.is(want.asked, want.labeled.length);
  t.true(want.labeled.length > 100);

  for (const killAt of [8, 64, 160]) {
    const file = path.join(dir, `killed-${killAt}.jsonl`);
    const run = start(file, 'start', 40);
    while ((await answerLines(file)) < killAt) await new Promise((r) => setTimeout(r, 5));
    run.p.kill('SIGKILL');
    const killed = await run.done;
    t.is(killed.signal, 'SIGKILL', `killed at ${killAt}`);
    const kept = (await readJournal(file)).answers.size;
    t.true(kept >= killAt && kept < want.labeled.length, `journal kept ${kept} answers`);
    const resumed = await start(file, 'resume', 0).done;
    t.is(resumed.code, 0, resumed.err);
    const got = JSON.parse(resumed.out) as ChildOut;
    t.is(got.fromJournal, kept);
    t.is(got.asked, want.labeled.length - kept, 'only unanswered rows are asked');
    t.deepEqual(got.labeled, want.labeled, 'same labeled set, labels and rounds as the uninterrupted run');
  }
});

test('a torn last line is dropped; corruption elsewhere is an error', async (t) => {
  const dir = await tmp(t);
  const file = path.join(dir, 'j.jsonl');
  const j = await openJournal(file, { a: 1 });
  await j.append([{ id: 'x', row: 0, label: true }]);
  await j.close();
  await fsp.appendFile(file, '{"type":"answer","id":"y","ro');
  const r = await readJournal(file);
  t.deepEqual([...r.answers.keys()], ['x']);
  t.deepEqual(r.params, { a: 1 });
  const again = await openJournal(file, {}, true);
  await again.append([{ id: 'y', row: 1, label: false }]);
  await again.close();
  t.deepEqual([...(await readJournal(file)).answers.keys()], ['x', 'y']);
  await fsp.writeFile(file, '{"type":"session","version":1,"params":{}}\nnot json\n{"type":"answer","id":"z","row":2,"label":true}\n');
  await t.throwsAsync(readJournal(file), { instanceOf: SynapseError, message: /line 2 is corrupt/ });
  await t.throwsAsync(openJournal(file, {}), { message: /EEXIST/ }, 'never overwrites a journal');
});

test('mine CLI: a killed run leaves a journal; --resume finishes it; a new run into the same --out is refused', async (t) => {
  const dir = await tmp(t);
  const { args: files } = await plantedFiles(dir, { rows: 600, positives: 30, seeds: 12, seed: 5 });
  const out = path.join(dir, 'run');
  const args = ['mine', ...files, '--oracle', 'column:label=yes', '--method', 'lr', '--seed', '2', '--out', out];
  const ref = await runChild([...args.slice(0, -1), path.join(dir, 'ref')]);
  t.is(ref.code, 0, ref.stderr);
  t.true(existsSync(path.join(dir, 'ref', 'journal.jsonl')), 'the journal moves into the finished output');
  // Simulate a run killed after its first answers: a journal with the session header and a few answers.
  const refJournal = await readJournal(path.join(dir, 'ref', 'journal.jsonl'));
  const jp = path.join(dir, '.run.journal.jsonl');
  const firstAnswers = [...refJournal.answers.values()].slice(0, 10);
  const j = await openJournal(jp, { ...refJournal.params, out });
  await j.append(firstAnswers);
  await j.close();
  const refused = await runChild(args);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /--out: an unfinished session .* --resume/);
  const resumed = await runChild(['mine', '--resume', out]);
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stderr, /resuming: 10 oracle answers come from the journal/);
  t.is(await fsp.readFile(path.join(out, 'labeled.csv'), 'utf8'), await fsp.readFile(path.join(dir, 'ref', 'labeled.csv'), 'utf8'));
  t.false(existsSync(jp), 'the journal moved into the output');
  const missing = await runChild(['mine', '--out', path.join(dir, 'x')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /--corpus: is required \(or continue a killed run with --resume DIR\)/);
});
