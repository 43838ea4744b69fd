/**
 * The LLM oracle: an OpenAI-compatible chat model rates each candidate against a rubric and
 * answers a JSON verdict `{"label": "positive"|"negative", "confidence": 0..1, "rationale": ...}`.
 *
 * - Verdicts are cached on disk, keyed by sha256(model, rubric, text), written atomically: a
 *   second run over the same rows asks nothing.
 * - 429, 5xx, timeouts and network errors are retried by the chat client with backoff; malformed
 *   answers (no JSON verdict, a refusal, an unreadable response) are asked again, with backoff.
 * - It never invents a label: a row still without a valid verdict after the last attempt stays
 *   unlabeled. {@link LlmOracle.labelPartial} returns `undefined` for it; `label()` delivers every
 *   other verdict (through `onAnswer`, so a journal keeps them) and then throws an
 *   {@link OracleIncompleteError} naming the unlabeled ids.
 * - Any other 4xx (a bad key, an unknown model) fails the batch at once.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, SynapseError } from '../errors';
import type { ChatClient } from '../llm/chat';
import { extractJson } from '../llm/json';
import { writeFileAtomic } from '../util/atomic';
import { HttpError } from '../util/http';
import { backoffDelay, sleep } from '../util/retry';
import type { Oracle, OracleItem, OracleLabelOptions } from './oracle';

/** A parsed verdict. */
export interface Verdict {
  /** `true` = positive. */
  label: boolean;
  /** The model's confidence in [0, 1] (0.5 when it gave none). */
  confidence: number;
  rationale: string;
}

/** Options of {@link createLlmOracle}. */
export interface LlmOracleOptions {
  client: ChatClient;
  /** What counts as positive: the rare event's definition, with examples if you have them. */
  rubric: string;
  /** Verdict cache root (verdicts go in `llm-verdicts/` under it). Default `SYNAPSE_G_CACHE_DIR` or `~/.cache/synapse-g`. */
  cacheDir?: string;
  /** Asks per row for a valid verdict (malformed JSON, refusals, unreadable responses). Default 3. */
  attempts?: number;
  /** Backoff scale between those asks, ms. Default 500. */
  retryBaseDelayMs?: number;
  /** Verdicts below this confidence are low-confidence (counted, reported, sent to `reviewer`). Default 0.6. */
  minConfidence?: number;
  /** Called for each low-confidence verdict (cached ones included). */
  onLowConfidence?: (item: OracleItem, verdict: Verdict) => void;
  /**
   * Who decides rows whose verdict is below `minConfidence` (e.g. the human oracle): their
   * answers replace the model's. Default: the model's verdict stands.
   */
  reviewer?: Oracle;
}

/** Counters for the report. */
export interface LlmOracleStats {
  /** HTTP requests of the client, retries included. */
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** Verdicts read from the disk cache. */
  cacheHits: number;
  /** Rows left without a valid verdict after the last attempt. */
  failures: number;
  /** Malformed answers asked again. */
  malformed: number;
  /** Ids of rows with a low-confidence verdict. */
  lowConfidence: string[];
  /** Ids of rows left without a verdict. */
  unlabeled: string[];
  /** Rows the reviewer decided. */
  reviewed: number;
}

/** An LLM oracle. */
export interface LlmOracle extends Oracle {
  labelPartial(items: readonly OracleItem[], options?: OracleLabelOptions): Promise<(boolean | undefined)[]>;
  stats(): LlmOracleStats;
}

/** An oracle gave no verdict for some rows; every other verdict was delivered. */
export class OracleIncompleteError extends SynapseError {
  /** Ids of the rows without a verdict, in batch order. */
  readonly ids: string[];
  constructor(message: string, ids: string[]) {
    super(message, 'ORACLE_INCOMPLETE');
    this.name = 'OracleIncompleteError';
    this.ids = ids;
  }
}

/** Parse `llm:MODEL` (the `--oracle` flag). */
export function parseLlmOracleSpec(spec: string, flag = '--oracle'): { model: string } {
  const m = typeof spec === 'string' ? /^llm:(.+)$/s.exec(spec) : null;
  if (!m || m[1].trim() === '') throw new InvalidArgumentError(flag, `expected llm:MODEL, got ${JSON.stringify(spec)}`);
  return { model: m[1].trim() };
}

/** Read a verdict out of a model answer; `undefined` when it is not one. */
export function parseVerdict(text: string): Verdict | undefined {
  const v = extractJson(text) as { label?: unknown; confidence?: unknown; rationale?: unknown } | undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const l = typeof v.label === 'string' ? v.label.trim().toLowerCase() : v.label;
  const label = l === 'positive' || l === true || l === 1 ? true : l === 'negative' || l === false || l === 0 ? false : undefined;
  if (label === undefined) return undefined;
  const c = v.confidence === undefined || v.confidence === null || v.confidence === '' ? NaN : Number(v.confidence);
  return {
    label,
    confidence: Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0.5,
    rationale: typeof v.rationale === 'string' ? v.rationale : '',
  };
}

function cachedVerdict(json: unknown): Verdict | undefined {
  const v = json as Partial<Verdict> | null;
  if (!v || typeof v.label !== 'boolean' || typeof v.confidence !== 'number' || !Number.isFinite(v.confidence)) return undefined;
  return { label: v.label, confidence: v.confidence, rationale: typeof v.rationale === 'string' ? v.rationale : '' };
}

const SYSTEM =
  'You label texts for a rare-event classifier. Follow the rubric exactly. Answer with one JSON object and nothing else: ' +
  '{"label": "positive" or "negative", "confidence": a number from 0 to 1, "rationale": one short sentence}.';

/** Is this failure of one ask worth asking again (a malformed or unreadable answer)? */
function isMalformedAnswer(e: unknown): boolean {
  if (e instanceof HttpError) return e.status >= 200 && e.status < 300; // a 2xx whose body is not JSON
  return e instanceof SynapseError && e.code === 'BAD_RESPONSE';
}

/** Create an LLM oracle. Sends nothing until the first batch. */
export function createLlmOracle(options: LlmOracleOptions): LlmOracle {
  if (!options || !options.client || typeof options.client.complete !== 'function') {
    throw new InvalidArgumentError('client', 'must be a chat client (createChatClient)');
  }
  if (typeof options.rubric !== 'string' || options.rubric.trim() === '') throw new InvalidArgumentError('--rubric', 'is empty: say what counts as positive');
  const attempts = options.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new InvalidArgumentError('attempts', `must be a positive integer, got ${attempts}`);
  const minConfidence = options.minConfidence ?? 0.6;
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) {
    throw new InvalidArgumentError('minConfidence', `must be a number in [0, 1], got ${minConfidence}`);
  }
  const baseDelayMs = options.retryBaseDelayMs ?? 500;
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) throw new InvalidArgumentError('retryBaseDelayMs', `must be a non-negative number, got ${baseDelayMs}`);
  const client = options.client;
  const root = options.cacheDir ?? process.env.SYNAPSE_G_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'synapse-g');
  const dir = path.join(root, 'llm-verdicts');
  const s = { cacheHits: 0, failures: 0, malformed: 0, lowConfidence: [] as string[], unlabeled: [] as string[], reviewed: 0 };
  const keyOf = (text: string): string => createHash('sha256').update(`${client.model}\0${options.rubric}\0${text}`).digest('hex');

  /** The row's verdict: cached, or asked for; `undefined` when none could be had. Throws on fatal errors. */
  const verdictFor = async (item: OracleItem, signal: AbortSignal): Promise<Verdict | undefined> => {
    const file = path.join(dir, `${keyOf(item.text)}.json`);
    try {
      const cached = cachedVerdict(JSON.parse(await fsp.readFile(file, 'utf8')));
      if (cached) {
        s.cacheHits++;
        return cached;
      }
    } catch {
      // not cached (or an unreadable entry: ask again and overwrite it)
    }
    for (let a = 0; a < attempts; a++) {
      if (a > 0) await sleep(backoffDelay(a - 1, baseDelayMs, 30_000), signal);
      let text: string;
      try {
        text = (
          await client.complete(
            [
              { role: 'system', content: SYSTEM },
              { role: 'user', content: `Rubric:\n${options.rubric}\n\nText:\n${item.text}` },
            ],
            { responseFormatJson: true, signal },
          )
        ).text;
      } catch (e) {
        if (signal.aborted) throw e;
        // The client already retried 429/5xx/timeouts/network errors; when it gives up the row stays unlabeled.
        if (e instanceof HttpError && e.retryable) return undefined;
        if (isMalformedAnswer(e)) {
          s.malformed++;
          continue;
        }
        throw e; // another 4xx (bad key, unknown model) or a bug: no row can be labeled
      }
      const v = parseVerdict(text);
      if (v) {
        await writeFileAtomic(file, `${JSON.stringify({ ...v, model: client.model, created: new Date().toISOString() })}\n`);
        return v;
      }
      s.malformed++;
    }
    return undefined;
  };

  const labelPartial = async (items: readonly OracleItem[], opts: OracleLabelOptions = {}): Promise<(boolean | undefined)[]> => {
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', 'must be an array of {row, id, text}');
    items.forEach((it, i) => {
      if (!it || typeof it.text !== 'string' || it.text.trim() === '') {
        throw new InvalidArgumentError(`items[${i}]`, `has no text (id ${JSON.stringify(it?.id)}): the LLM oracle labels texts, not vectors`);
      }
    });
    opts.signal?.throwIfAborted();
    const out: (boolean | undefined)[] = items.map(() => undefined);
    const failed: number[] = [];
    const review: number[] = [];
    let done = opts.alreadyAnswered ?? 0;
    const total = done + items.length;
    // A fatal error (or the caller's signal) cancels the rows still asking.
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const settled = await Promise.allSettled(
        items.map(async (item, i) => {
          try {
            const v = await verdictFor(item, ctrl.signal);
            if (!v) {
              failed.push(i);
              return;
            }
            if (v.confidence < minConfidence) {
              s.lowConfidence.push(item.id);
              options.onLowConfidence?.(item, v);
              if (options.reviewer) {
                review.push(i);
                return;
              }
            }
            out[i] = v.label;
            await opts.onAnswer?.(item, v.label);
            opts.onProgress?.(++done, total);
          } catch (e) {
            if (!ctrl.signal.aborted) ctrl.abort(e);
            throw e;
          }
        }),
      );
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (settled.some((r) => r.status === 'rejected')) throw ctrl.signal.reason;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (review.length > 0 && options.reviewer) {
      // Low-confidence rows go to the reviewer (a person); their answers are journaled too.
      review.sort((a, b) => a - b);
      const reviewer = options.reviewer;
      const batch = review.map((i) => items[i]);
      const ropts: OracleLabelOptions = { signal: opts.signal, onAnswer: opts.onAnswer };
      const answers = reviewer.labelPartial ? await reviewer.labelPartial(batch, ropts) : await reviewer.label(batch, ropts);
      review.forEach((i, j) => {
        out[i] = answers[j];
        if (answers[j] === undefined) failed.push(i);
        else s.reviewed++;
      });
    }
    failed.sort((a, b) => a - b);
    s.failures += failed.length;
    s.unlabeled.push(...failed.map((i) => items[i].id));
    return out;
  };

  return {
    name: `llm ${client.model}`,
    streaming: true,
    stats: () => ({ ...client.stats(), ...s, lowConfidence: [...s.lowConfidence], unlabeled: [...s.unlabeled] }),
    close: async () => {
      await options.reviewer?.close?.();
    },
    labelPartial,
    async label(items: readonly OracleItem[], opts: OracleLabelOptions = {}): Promise<boolean[]> {
      const out = await labelPartial(items, opts);
      const missing = items.filter((_, i) => out[i] === undefined).map((it) => it.id);
      if (missing.length > 0) {
        throw new OracleIncompleteError(
          `the LLM gave no valid verdict for ${missing.length} row(s) after ${attempts} attempts each (ids: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, ... ${missing.length - 10} more` : ''}); ` +
            'they stay unlabeled. Every other verdict is kept: continue with --resume',
          missing,
        );
      }
      return out as boolean[];
    },
  };
}
