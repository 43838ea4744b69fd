/**
 * The LLM oracle: an OpenAI-compatible chat model rates each candidate against a rubric and
 * answers a JSON verdict `{"label": "positive"|"negative", "confidence": 0..1, "rationale": ...}`.
 * Verdicts are cached on disk by model, rubric and text (a second run asks nothing); transport
 * failures are retried by the client, malformed or missing verdicts are asked again; a row
 * that still has no valid verdict is never given an invented label: the batch fails naming it,
 * with every verdict so far kept (journaled through `onAnswer`), so `--resume` asks only for it.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, SynapseError } from '../errors';
import type { ChatClient } from '../llm/chat';
import { extractJson } from '../llm/json';
import { writeFileAtomic } from '../util/atomic';
import type { Oracle, OracleItem, OracleLabelOptions } from './oracle';

/** A parsed verdict. */
export interface Verdict {
  label: boolean;
  confidence: number;
  rationale: string;
}

/** Options of {@link createLlmOracle}. */
export interface LlmOracleOptions {
  client: ChatClient;
  /** What counts as positive: the rare event's definition, with examples if you have them. */
  rubric: string;
  /** Verdict cache root. Default `SYNAPSE_G_CACHE_DIR` or `~/.cache/synapse-g`. */
  cacheDir?: string;
  /** Asks per row for a valid verdict (malformed JSON, refusals). Default 3. */
  attempts?: number;
  /** Verdicts below this confidence are counted (and listed in `stats().lowConfidence`). Default 0.6. */
  minConfidence?: number;
  /**
   * Who decides rows whose verdict is below `minConfidence` (e.g. the human oracle): their
   * answers replace the model's. Default: the model's verdict stands.
   */
  reviewer?: Oracle;
}

/** Counters for the report. */
export interface LlmOracleStats {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cacheHits: number;
  malformed: number;
  lowConfidence: string[];
  unlabeled: string[];
  /** Rows the reviewer decided. */
  reviewed: number;
}

/** An LLM oracle. */
export interface LlmOracle extends Oracle {
  stats(): LlmOracleStats;
}

/** Parse `llm:MODEL` (the `--oracle` flag). */
export function parseLlmOracleSpec(spec: string, flag = '--oracle'): { model: string } {
  const m = /^llm:(.+)$/.exec(spec);
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
  const c = typeof v.confidence === 'number' ? v.confidence : Number(v.confidence);
  return { label, confidence: Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0.5, rationale: typeof v.rationale === 'string' ? v.rationale : '' };
}

const SYSTEM = 'You label texts for a rare-event classifier. Follow the rubric exactly. Answer with one JSON object and nothing else: {"label": "positive" or "negative", "confidence": a number from 0 to 1, "rationale": one short sentence}.';

/** Create an LLM oracle. */
export function createLlmOracle(options: LlmOracleOptions): LlmOracle {
  if (typeof options.rubric !== 'string' || options.rubric.trim() === '') throw new InvalidArgumentError('--rubric', 'is empty: say what counts as positive');
  const root = options.cacheDir ?? process.env.SYNAPSE_G_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'synapse-g');
  const dir = path.join(root, 'llm-verdicts');
  const attempts = options.attempts ?? 3;
  const minConfidence = options.minConfidence ?? 0.6;
  const s = { cacheHits: 0, malformed: 0, lowConfidence: [] as string[], unlabeled: [] as string[], reviewed: 0 };
  const keyOf = (text: string): string => createHash('sha256').update(`${options.client.model}\0${options.rubric}\0${text}`).digest('hex');

  const verdictFor = async (item: OracleItem, signal?: AbortSignal): Promise<Verdict | undefined> => {
    const file = path.join(dir, `${keyOf(item.text)}.json`);
    try {
      const cached = JSON.parse(await fsp.readFile(file, 'utf8')) as Verdict;
      s.cacheHits++;
      return cached;
    } catch {
      // not cached
    }
    for (let a = 0; a < attempts; a++) {
      const answer = await options.client.complete(
        [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: `Rubric:\n${options.rubric}\n\nText:\n${item.text}` },
        ],
        { json: true, signal },
      );
      const v = parseVerdict(answer);
      if (v) {
        await writeFileAtomic(file, JSON.stringify(v));
        return v;
      }
      s.malformed++;
    }
    return undefined;
  };

  return {
    name: `llm ${options.client.model}`,
    streaming: true,
    stats: () => ({ ...options.client.stats(), ...s, lowConfidence: [...s.lowConfidence], unlabeled: [...s.unlabeled] }),
    close: async () => {
      await options.reviewer?.close?.();
    },
    async label(items: readonly OracleItem[], opts: OracleLabelOptions = {}): Promise<boolean[]> {
      const out: (boolean | undefined)[] = items.map(() => undefined);
      const failed: string[] = [];
      const review: number[] = [];
      let done = 0;
      await Promise.all(
        items.map(async (item, i) => {
          const v = await verdictFor(item, opts.signal);
          if (!v) {
            failed.push(item.id);
            return;
          }
          if (v.confidence < minConfidence) {
            s.lowConfidence.push(item.id);
            if (options.reviewer) {
              review.push(i);
              return;
            }
          }
          out[i] = v.label;
          await opts.onAnswer?.(item, v.label);
          opts.onProgress?.(++done, items.length);
        }),
      );
      if (review.length > 0 && options.reviewer) {
        // Low-confidence rows go to the reviewer (a person); their answers are journaled too.
        const answers = await options.reviewer.label(
          review.map((i) => items[i]),
          { signal: opts.signal, onAnswer: opts.onAnswer },
        );
        review.forEach((i, j) => (out[i] = answers[j]));
        s.reviewed += review.length;
      }
      if (failed.length > 0) {
        s.unlabeled.push(...failed);
        throw new SynapseError(
          `the LLM gave no valid verdict for ${failed.length} row(s) after ${attempts} attempts each (ids: ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', ...' : ''}); they stay unlabeled. Every other verdict is kept: continue with --resume`,
          'ORACLE_INCOMPLETE',
        );
      }
      return out as boolean[];
    },
  };
}
