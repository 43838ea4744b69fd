/**
 * Synthetic seed generation: ask a chat model for diverse, realistic examples of the rare event
 * (each request varies persona, tone, length and angle; few-shot from user examples), parse the
 * JSON arrays robustly, and drop refusals, empty texts, duplicates and near-duplicates (cosine
 * above a threshold with the given embedder).
 */
import type { Embedder } from '../embed/embedder';
import { InvalidArgumentError } from '../errors';
import type { ChatClient } from './chat';
import { extractJson } from './json';

const PERSONAS = ['a teenager', 'a retiree', 'a busy professional', 'a non-native English speaker', 'a student', 'a parent', 'an enthusiast', 'a first-time user'];
const TONES = ['casual', 'formal', 'angry', 'enthusiastic', 'terse', 'sarcastic', 'worried', 'matter-of-fact'];
const LENGTHS = ['one short sentence', 'two or three sentences', 'a short paragraph', 'a few words'];

/** Does this look like a model refusing rather than an example? */
export function isRefusal(text: string): boolean {
  return /^\s*(i('| a)?m (sorry|unable|not able)|i (can('|no)t|cannot|won'?t)|as an ai|sorry[,.!]|i apologi[sz]e|unfortunately,? i)/i.test(text);
}

/** Options of {@link generateSeeds}. */
export interface GenerateOptions {
  /** The rare event, in words. */
  describe: string;
  /** A few real or hand-written examples to imitate (few-shot). */
  examples?: readonly string[];
  /** Examples wanted. */
  n: number;
  client: ChatClient;
  /** Used to drop near-duplicates; without it only exact duplicates are dropped. */
  embedder?: Embedder;
  /** Cosine similarity above which a new example counts as a near-duplicate. Default 0.95. */
  dedupThreshold?: number;
  /** Examples asked for per request. Default 10. */
  perRequest?: number;
  /** Give up after this many requests. Default 3 · n / perRequest + 3. */
  maxRequests?: number;
  /** Requests sent together. Default 4. */
  concurrency?: number;
  onProgress?: (kept: number, n: number) => void;
  signal?: AbortSignal;
}

/** What {@link generateSeeds} made. */
export interface GenerateResult {
  texts: string[];
  dropped: { refusals: number; empty: number; duplicates: number; nearDuplicates: number; unparsable: number };
  requests: number;
  /** The prompt template (with the variation slots) and the parameters, for the record. */
  prompt: string;
  parameters: Record<string, unknown>;
}

function promptFor(o: GenerateOptions, k: number, i: number): string {
  const persona = PERSONAS[i % PERSONAS.length];
  const tone = TONES[Math.floor(i / PERSONAS.length) % TONES.length];
  const length = LENGTHS[i % LENGTHS.length];
  const shots = (o.examples ?? []).slice(0, 5);
  return (
    `Write ${k} different, realistic examples of the following, as real people would write them:\n${o.describe}\n\n` +
    `This time write as ${persona}, in a ${tone} tone, each about ${length}. Vary topic, wording and details; do not number them or repeat yourself.` +
    (shots.length ? `\n\nExamples of the kind of text wanted:\n${shots.map((e) => `- ${e}`).join('\n')}` : '') +
    `\n\nAnswer with a JSON array of ${k} strings and nothing else.`
  );
}

/** Generate `n` synthetic positives. */
export async function generateSeeds(o: GenerateOptions): Promise<GenerateResult> {
  if (typeof o.describe !== 'string' || o.describe.trim() === '') throw new InvalidArgumentError('--describe', 'is empty: describe the rare event');
  if (!Number.isInteger(o.n) || o.n <= 0) throw new InvalidArgumentError('--n', `must be a positive integer, got ${o.n}`);
  const per = o.perRequest ?? 10;
  const maxRequests = o.maxRequests ?? Math.ceil((3 * o.n) / per) + 3;
  const threshold = o.dedupThreshold ?? 0.95;
  const wave = o.concurrency ?? 4;
  const texts: string[] = [];
  const seen = new Set<string>();
  const vectors: Float32Array[] = [];
  const dropped = { refusals: 0, empty: 0, duplicates: 0, nearDuplicates: 0, unparsable: 0 };
  let requests = 0;
  while (texts.length < o.n && requests < maxRequests) {
    const batch = Array.from({ length: Math.min(wave, maxRequests - requests) }, (_, j) => requests + j);
    requests += batch.length;
    const answers = await Promise.all(batch.map((i) => o.client.complete([{ role: 'user', content: promptFor(o, per, i) }], { temperature: 1, signal: o.signal })));
    for (const answer of answers) {
      const parsed = extractJson(answer);
      const items = Array.isArray(parsed) ? parsed : isRefusal(answer) ? [answer] : undefined;
      if (!items) {
        dropped.unparsable++;
        continue;
      }
      const fresh: string[] = [];
      for (const raw of items) {
        const t = typeof raw === 'string' ? raw.trim() : '';
        if (t === '') dropped.empty++;
        else if (isRefusal(t)) dropped.refusals++;
        else if (seen.has(t.toLowerCase())) dropped.duplicates++;
        else {
          seen.add(t.toLowerCase());
          fresh.push(t);
        }
      }
      if (!o.embedder) {
        texts.push(...fresh);
        continue;
      }
      const emb = fresh.length ? await o.embedder.embed(fresh) : new Float32Array(0);
      const d = o.embedder.dim;
      for (let f = 0; f < fresh.length; f++) {
        const v = emb.subarray(f * d, (f + 1) * d);
        let near = false;
        for (const w of vectors) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += v[j] * w[j];
          if (dot > threshold) {
            near = true;
            break;
          }
        }
        if (near) dropped.nearDuplicates++;
        else {
          vectors.push(v);
          texts.push(fresh[f]);
        }
      }
    }
    o.onProgress?.(Math.min(texts.length, o.n), o.n);
  }
  return {
    texts: texts.slice(0, o.n),
    dropped,
    requests,
    prompt: promptFor({ ...o, examples: o.examples }, per, 0),
    parameters: { model: o.client.model, n: o.n, perRequest: per, dedupThreshold: o.embedder ? threshold : null, embedder: o.embedder?.modelId ?? null, temperature: 1 },
  };
}
