/**
 * The human oracle end to end in a real browser: Debian's chromium driven by playwright-core
 * labels every round of `synapse-g mine --oracle human` (y / n, a skip and an undo), then the
 * outputs and the journal are checked. Skipped (with the reason) when /usr/bin/chromium is absent.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { readJournal } from '../src/session/journal';
import { REPO } from './helpers/cli';
import { plantedFiles } from './helpers/planted-files';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserTest = existsSync(CHROMIUM) ? test : test.skip;
if (!existsSync(CHROMIUM)) console.log(`SKIPPED: no browser at ${CHROMIUM}; install Debian's chromium (scripts/setup-system.sh)`);

async function files(dir: string): Promise<string[]> {
  const text = (i: number, positive: boolean) => `review ${i} is ${positive ? 'POSITIVE' : 'NEGATIVE'}`;
  return (await plantedFiles(dir, { rows: 400, positives: 40, seeds: 10, seed: 9, text, labelColumn: false })).args;
}

browserTest('a person labels every round in the browser: y/n, skip, undo; answers journaled; token required', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-human-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'run');
  const args = [...(await files(dir)), '--oracle', 'human', '--method', 'gble', '--tau', '0.3', '--k0', '4', '--max-queries', '10', '--out', out];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'mine', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /label \d+ candidate\(s\) at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`mine exited before serving the page:\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));

  const noToken = await fetch(url.replace(/\?token=.*/, ''));
  t.is(noToken.status, 403, 'requests without the token are refused');
  const wrong = await fetch(url.replace(/token=[0-9a-f]+/, 'token=00'));
  t.is(wrong.status, 403);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(url);
  let skipped = false;
  let undone = false;
  let finished = false;
  void exited.then(() => (finished = true));
  const shot = path.join(process.env.SYNAPSE_G_SCREENSHOT_DIR ?? dir, 'human-oracle.png');
  while (!finished) {
    const labeling = await page.waitForSelector('body[data-state="labeling"]', { timeout: 1500 }).then(() => true, () => false);
    if (!labeling) continue;
    const text = (await page.textContent('#text')) ?? '';
    const before = await page.getAttribute('body', 'data-queried');
    if (!skipped) {
      skipped = true;
      await page.keyboard.press('s');
      await page.waitForFunction(`document.getElementById('text').textContent !== ${JSON.stringify(text)}`);
      continue;
    }
    const key = text.includes('POSITIVE') ? 'y' : 'n';
    if (!undone && Number(before) >= 2) {
      // A wrong answer, undone at once: the same candidate comes back.
      undone = true;
      await page.keyboard.press(key === 'y' ? 'n' : 'y');
      await page.waitForFunction(`document.body.dataset.queried !== ${JSON.stringify(before)}`);
      await page.screenshot({ path: shot });
      await page.keyboard.press('u');
      await page.waitForFunction(`document.body.dataset.queried === ${JSON.stringify(before)}`);
      t.is(await page.textContent('#text'), text, 'undo shows the candidate again');
      continue;
    }
    await page.keyboard.press(key);
    await page
      .waitForFunction(`document.body.dataset.queried !== ${JSON.stringify(before)} || document.body.dataset.state !== 'labeling'`, undefined, { timeout: 5000 })
      .catch(() => undefined);
  }
  t.is(await exited, 0, stderr);
  t.true(skipped && undone);
  t.true((await fsp.stat(shot)).size > 1000, 'screenshot saved');
  t.regex(stdout, /report: /);
  const labeled = (await fsp.readFile(path.join(out, 'labeled.csv'), 'utf8')).trim().split('\n').slice(1).filter((l) => l.endsWith(',oracle'));
  t.is(labeled.length, 10);
  for (const l of labeled) {
    const truth = l.includes('POSITIVE') ? 'positive' : 'negative';
    t.true(l.includes(`,${truth},`), `labeled as the person answered: ${l}`);
  }
  const journalText = await fsp.readFile(path.join(out, 'journal.jsonl'), 'utf8');
  t.regex(journalText, /"type":"undo"/, 'the undo is in the journal');
  t.is((await readJournal(path.join(out, 'journal.jsonl'))).answers.size, 10);
});

test('terminal mode: y/n/s/u from stdin', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'synapse-g-tty-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'run');
  const args = [...(await files(dir)), '--oracle', 'human:tty', '--method', 'nn', '--k0', '3', '--max-queries', '6', '--out', out];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'mine', ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let answered = 0;
  let seenPrompts = 0;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const prompts = stderr.match(/u = undo > /g)?.length ?? 0;
    while (seenPrompts < prompts) {
      seenPrompts++;
      const blocks = stderr.split('u = undo > ');
      const last = blocks[blocks.length - 2] ?? '';
      const key = seenPrompts === 2 ? 's' : seenPrompts === 4 ? 'u' : last.includes('POSITIVE') ? 'y' : 'n';
      if (key === 'y' || key === 'n') answered++;
      child.stdin.write(`${key}\n`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.is(code, 0, stderr);
  t.true(answered >= 6);
  const labeled = (await fsp.readFile(path.join(out, 'labeled.csv'), 'utf8')).trim().split('\n').filter((l) => l.endsWith(',oracle'));
  t.is(labeled.length, 6);
  for (const l of labeled) t.true(l.includes(l.includes('POSITIVE') ? ',positive,' : ',negative,'), l);
});
