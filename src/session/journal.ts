/**
 * A durable session journal: an append-only JSON-lines file, fsynced after every batch of oracle
 * answers, so a run killed at any point (even with SIGKILL) loses no answer. Resuming replays the
 * run deterministically (same `--seed`, same inputs) and serves every answered query from the
 * journal: nothing is asked twice, and the final labeled set equals an uninterrupted run's.
 *
 * Line 1 is a header `{"type":"session","version":1,"params":{...}}`; then one
 * `{"type":"answer","id":...,"row":...,"label":...}` per answer. A torn last line (a kill during
 * the write) is ignored; a malformed line anywhere else is an error.
 */
import { promises as fsp } from 'node:fs';
import { InvalidArgumentError, SynapseError } from '../errors';
import type { Oracle, OracleItem, OracleLabelOptions } from '../oracle/oracle';

/** One journaled oracle answer. */
export interface JournalAnswer {
  id: string;
  row: number;
  label: boolean;
}

/** An open journal. */
export interface Journal {
  readonly file: string;
  /** What the session was started with (the header's `params`). */
  readonly params: Record<string, unknown>;
  /** Answers so far, by row id. */
  readonly answers: ReadonlyMap<string, JournalAnswer>;
  /** Append answers and fsync before resolving. */
  append(answers: readonly JournalAnswer[]): Promise<void>;
  /** Withdraw an answer (an undo) and fsync. */
  withdraw(id: string): Promise<void>;
  close(): Promise<void>;
}

interface Line {
  type?: unknown;
  version?: unknown;
  params?: unknown;
  id?: unknown;
  row?: unknown;
  label?: unknown;
}

/** Read a journal's header and answers (tolerating a torn last line). */
export async function readJournal(file: string): Promise<{ params: Record<string, unknown>; answers: Map<string, JournalAnswer> }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError('--resume', `no session journal at ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  const answers = new Map<string, JournalAnswer>();
  let params: Record<string, unknown> | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    let obj: Line;
    try {
      obj = JSON.parse(lines[i]) as Line;
    } catch {
      if (i === lines.length - 1 && !complete) break; // torn by a kill mid-write
      throw new SynapseError(`${file} line ${i + 1} is corrupt; the journal cannot be resumed`, 'CORRUPT_JOURNAL');
    }
    if (i === 0) {
      if (obj.type !== 'session' || obj.version !== 1 || typeof obj.params !== 'object' || obj.params === null) {
        throw new SynapseError(`${file} is not a synapse-g session journal`, 'CORRUPT_JOURNAL');
      }
      params = obj.params as Record<string, unknown>;
    } else if (obj.type === 'answer' && typeof obj.id === 'string' && typeof obj.row === 'number' && typeof obj.label === 'boolean') {
      answers.set(obj.id, { id: obj.id, row: obj.row, label: obj.label });
    } else if (obj.type === 'undo' && typeof obj.id === 'string') {
      answers.delete(obj.id);
    } else if (!(i === lines.length - 1 && !complete)) {
      throw new SynapseError(`${file} line ${i + 1} is not a journal entry`, 'CORRUPT_JOURNAL');
    }
  }
  if (!params) throw new SynapseError(`${file} is empty; the journal cannot be resumed`, 'CORRUPT_JOURNAL');
  return { params, answers };
}

/**
 * Open a journal: create it with `params` as its header, or (with `resume`) read it and append to
 * it. A torn last line is cut off before appending.
 */
export async function openJournal(file: string, params: Record<string, unknown>, resume = false): Promise<Journal> {
  let answers = new Map<string, JournalAnswer>();
  let header = params;
  if (resume) {
    const r = await readJournal(file);
    answers = r.answers;
    header = r.params;
    const text = await fsp.readFile(file, 'utf8');
    if (!text.endsWith('\n')) await fsp.truncate(file, text.lastIndexOf('\n') + 1);
  } else {
    const fh = await fsp.open(file, 'wx');
    try {
      await fh.writeFile(`${JSON.stringify({ type: 'session', version: 1, params })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  const fh = await fsp.open(file, 'a');
  return {
    file,
    params: header,
    answers,
    async append(batch: readonly JournalAnswer[]): Promise<void> {
      if (batch.length === 0) return;
      await fh.write(batch.map((a) => `${JSON.stringify({ type: 'answer', ...a })}\n`).join(''));
      await fh.sync();
      for (const a of batch) answers.set(a.id, a);
    },
    async withdraw(id: string): Promise<void> {
      await fh.write(`${JSON.stringify({ type: 'undo', id })}\n`);
      await fh.sync();
      answers.delete(id);
    },
    close: () => fh.close(),
  };
}

/**
 * Wrap `oracle` so answers come from the journal when known, and every new answer is journaled
 * (fsynced) before it is used. New queries go to `oracle` in chunks of `chunk` rows, so a kill
 * mid-batch loses at most the chunk in flight (whose answers were never returned).
 */
export function journaledOracle(oracle: Oracle, journal: Journal, options: { chunk?: number; onAsk?: (n: number) => void } = {}): Oracle {
  const chunk = options.chunk ?? 16;
  return {
    name: oracle.name,
    totalPositives: oracle.totalPositives,
    async label(items: readonly OracleItem[], opts: OracleLabelOptions = {}): Promise<boolean[]> {
      const out: (boolean | undefined)[] = items.map((it) => {
        const a = journal.answers.get(it.id);
        if (a && a.row !== it.row) {
          throw new SynapseError(`journal answer for id ${JSON.stringify(it.id)} was row ${a.row + 1}, now row ${it.row + 1}: the corpus changed since the session started`, 'JOURNAL_MISMATCH');
        }
        return a?.label;
      });
      const todo = items.map((it, i) => ({ it, i })).filter((x) => out[x.i] === undefined);
      // Oracles answering row by row get the whole round and journal each answer as it comes.
      const size = oracle.streaming ? Math.max(1, todo.length) : chunk;
      const onAnswer = async (it: OracleItem, label: boolean | undefined): Promise<void> => {
        if (label === undefined) await journal.withdraw(it.id);
        else await journal.append([{ id: it.id, row: it.row, label }]);
      };
      for (let s = 0; s < todo.length; s += size) {
        const part = todo.slice(s, s + size);
        options.onAsk?.(part.length);
        const answers = await oracle.label(
          part.map((x) => x.it),
          { signal: opts.signal, alreadyAnswered: items.length - todo.length + s, ...(oracle.streaming ? { onAnswer } : {}) },
        );
        const missing = part.filter((x, j) => journal.answers.get(x.it.id)?.label !== answers[j]);
        if (missing.length > 0) await journal.append(missing.map((x) => ({ id: x.it.id, row: x.it.row, label: answers[part.indexOf(x)] })));
        part.forEach((x, j) => (out[x.i] = answers[j]));
        opts.onProgress?.(items.length - todo.length + Math.min(s + size, todo.length), items.length);
      }
      return out as boolean[];
    },
  };
}
