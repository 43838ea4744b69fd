/**
 * Synthetic seed generation: ask a chat model for diverse, realistic examples of the rare event
 * (each request varies persona, tone, length and topic; few-shot from the user's examples), parse
 * the JSON arrays robustly, and drop refusals, empty texts, exact duplicates and near-duplicates
 * (cosine above a threshold with the given embedder). Requests run concurrently under the
 * client's limit until `n` examples are kept or a cap on requests is reached.
 */
import type { Embedder } from '../embed/embedder';
import { InvalidArgumentError } from '../errors';
import type { ChatClient, ChatUsage } from './chat';
import { extractJson } from './json';

/** Who writes the examples, one per request in turn. */
export const GENERATE_PERSONAS: readonly string[] = [
  'a teenager',
  'a retiree',
  'a busy professional',
  'a non-native English speaker',
  'a student',
  'a parent',
  'an enthusiast',
  'a first-time user',
  'a small-business owner',
  'someone in a hurry on a phone',
];
/** Tones, varied across requests. */
export const GENERATE_TONES: readonly string[] = ['casual', 'formal', 'angry', 'enthusiastic', 'terse', 'sarcastic', 'worried', 'matter-of-fact', 'polite', 'confused'];
/** Lengths, varied across requests. */
export const GENERATE_LENGTHS: readonly string[] = ['a few words', 'one short sentence', 'two or three sentences', 'a short paragraph'];
/** Angles on the topic, varied across requests. */
export const GENERATE_TOPICS: readonly string[] = [
  'an everyday situation',
  'an unusual but realistic situation',
  'a situation involving money or a purchase',
  'a situation at work or school',
  'a situation involving family or friends',
  'a situation online or on social media',
  'a situation involving travel or a place',
  'a situation involving health, time pressure or an emergency',
];

const REFUSAL =
  /^\s*["'“]?\s*(i('| a)?m (sorry|unable|not able|afraid)|i (can('|no)?t|cannot|won'?t|will not|am not able to|must decline)|as an ai\b|as a language model|sorry[,.!]|i apologi[sz]e|unfortunately,? i\b|i'?m not comfortable)/i;

/** Does this look like a model refusing rather than an example? */
export function isRefusal(text: string): boolean {
  return REFUSAL.test(text);
}

/** Options of {@link generateSeeds}. */
export interface GenerateOptions {
  /** The rare event, in words. */
  describe: string;
  /** A few real or hand-written examples to imitate (few-shot; up to 5 per request, rotated). */
  examples?: readonly string[];
  /** Examples wanted. */
  n: number;
  client: ChatClient;
  /** Used to drop near-duplicates (its L2-normalised vectors, dot product); without it only exact duplicates are dropped. */
  embedder?: Embedder;
  /** Examples asked for per request. Default 10. */
  batchSize?: number;
  /** Alias of `batchSize`. */
  perRequest?: number;
  /** Cosine similarity above which a new example counts as a near-duplicate of a kept one. Default 0.95. */
  dedupThreshold?: number;
  /** Give up after this many requests. Default `3 · ceil(n / batchSize) + 3`. */
  maxRequests?: number;
  /** Requests in flight at once. Default the client's concurrency. */
  concurrency?: number;
  /** Sampling temperature. Default 1. */
  temperature?: number;
  /** Called after each answer is processed: examples kept so far (at most `n`) out of `n`. */
  onProgress?: (kept: number, n: number) => void;
  signal?: AbortSignal;
}

/** What {@link generateSeeds} dropped. */
export interface GenerateDropped {
  /** Refusals ("I can't", "As an AI", ...), as items or as whole answers. */
  refusals: number;
  /** Empty or non-string items. */
  empty: number;
  /** Exact duplicates (ignoring case and whitespace) of a kept example. */
  duplicates: number;
  /** Examples too close (cosine above the threshold) to a kept one. */
  nearDuplicates: number;
  /** Answers with no JSON array of examples in them. */
  unparsable: number;
}

/** What {@link generateSeeds} made. */
export interface GenerateResult {
  /** The kept examples, at most `n`, in the order they were kept. */
  texts: string[];
  dropped: GenerateDropped;
  /** Chat completions asked for (retries of one request by the client not counted). */
  requests: number;
  /** Tokens of those requests. */
  usage: ChatUsage;
  /** The prompt of the first request (later ones vary persona, tone, length, topic and shots), for the record. */
  prompt: string;
  /** Everything that shaped the prompts, for the record. */
  parameters: Record<string, unknown>;
}

function pick<T>(list: readonly T[], i: number): T {
  return list[i % list.length];
}

/** The prompt of request number `i` (0-based): a deterministic mix of persona, tone, length, topic and shots. */
export function generatePrompt(describe: string, examples: readonly string[], k: number, i: number): string {
  const persona = pick(GENERATE_PERSONAS, i);
  const tone = pick(GENERATE_TONES, i * 3 + Math.floor(i / GENERATE_PERSONAS.length));
  const length = pick(GENERATE_LENGTHS, i + Math.floor(i / 2));
  const topic = pick(GENERATE_TOPICS, i * 5 + 1);
  const shotCount = Math.min(5, examples.length);
  const shots = Array.from({ length: shotCount }, (_, j) => examples[(i * shotCount + j) % examples.length]);
  return (
    `Write ${k} different, realistic examples of the following, as real people would write them:\n${describe.trim()}\n\n` +
    `This time write as ${persona}, in a ${tone} tone, each about ${length}, set in ${topic}. ` +
    'Vary the topic, wording, names and details between examples; do not number them, do not explain, do not repeat yourself.' +
    (shots.length ? `\n\nExamples of the kind of text wanted (write new ones, do not copy):\n${shots.map((e) => `- ${JSON.stringify(e)}`).join('\n')}` : '') +
    `\n\nAnswer with a JSON array of ${k} strings and nothing else.`
  );
}

/** The example strings in a parsed answer: an array, or the first array field of an object. */
function itemsOf(parsed: unknown): unknown[] | undefined {
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object') {
    for (const v of Object.values(parsed)) if (Array.isArray(v)) return v;
  }
  return undefined;
}

function itemText(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim();
  if (raw && typeof raw === 'object') {
    const t = (raw as Record<string, unknown>).text ?? (raw as Record<string, unknown>).example;
    if (typeof t === 'string') return t.trim();
  }
  return '';
}

function normalised(v: Float32Array): Float32Array {
  let ss = 0;
  for (let j = 0; j < v.length; j++) ss += v[j] * v[j];
  if (!(ss > 0) || Math.abs(ss - 1) < 1e-6) return v;
  const inv = 1 / Math.sqrt(ss);
  return v.map((x) => x * inv);
}

/**
 * Generate `n` synthetic positives with `client`.
 *
 * @throws InvalidArgumentError naming `--describe`, `--n`, `batchSize`, `maxRequests`, `concurrency` or `dedupThreshold`
 * @throws HttpError when a request fails for good (the other requests are cancelled)
 */
export async function generateSeeds(o: GenerateOptions): Promise<GenerateResult> {
  if (!o || typeof o.describe !== 'string' || o.describe.trim() === '') throw new InvalidArgumentError('--describe', 'is empty: describe the rare event');
  if (!Number.isInteger(o.n) || o.n <= 0) throw new InvalidArgumentError('--n', `must be a positive integer, got ${o.n}`);
  if (!o.client || typeof o.client.complete !== 'function') throw new InvalidArgumentError('client', 'must be a chat client (createChatClient)');
  const per = o.batchSize ?? o.perRequest ?? 10;
  if (!Number.isInteger(per) || per < 1) throw new InvalidArgumentError('batchSize', `must be a positive integer, got ${per}`);
  const maxRequests = o.maxRequests ?? 3 * Math.ceil(o.n / per) + 3;
  if (!Number.isInteger(maxRequests) || maxRequests < 1) throw new InvalidArgumentError('maxRequests', `must be a positive integer, got ${maxRequests}`);
  const concurrency = o.concurrency ?? o.client.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError('concurrency', `must be a positive integer, got ${concurrency}`);
  const threshold = o.dedupThreshold ?? 0.95;
  if (typeof threshold !== 'number' || !(threshold > -1 && threshold <= 1)) {
    throw new InvalidArgumentError('dedupThreshold', `must be a cosine in (-1, 1], got ${threshold}`);
  }
  const examples = (o.examples ?? []).map((e) => e.trim()).filter((e) => e !== '');
  const temperature = o.temperature ?? 1;

  const texts: string[] = [];
  const seen = new Set<string>();
  const vectors: Float32Array[] = [];
  const dropped: GenerateDropped = { refusals: 0, empty: 0, duplicates: 0, nearDuplicates: 0, unparsable: 0 };
  const usage: ChatUsage = { promptTokens: 0, completionTokens: 0 };
  let launched = 0;

  o.signal?.throwIfAborted();
  // One failed request cancels the others.
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const take = async (answer: string): Promise<void> => {
    const items = itemsOf(extractJson(answer));
    if (!items) {
      if (isRefusal(answer)) dropped.refusals++;
      else dropped.unparsable++;
      return;
    }
    const fresh: string[] = [];
    for (const raw of items) {
      const t = itemText(raw);
      const key = t.toLowerCase().replace(/\s+/g, ' ');
      if (t === '') dropped.empty++;
      else if (isRefusal(t)) dropped.refusals++;
      else if (seen.has(key)) dropped.duplicates++;
      else {
        seen.add(key);
        fresh.push(t);
      }
    }
    if (!o.embedder || fresh.length === 0) {
      texts.push(...fresh);
      return;
    }
    const emb = await o.embedder.embed(fresh, { signal: ctrl.signal });
    const d = o.embedder.dim;
    for (let f = 0; f < fresh.length; f++) {
      const v = normalised(emb.slice(f * d, (f + 1) * d));
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
  };

  // Requests go out while the answers in flight could not yet make up `n` (at most `concurrency`
  // at once); answers are processed one at a time, in the order they arrive (dedup state is shared).
  let processing: Promise<void> = Promise.resolve();
  let pending = 0;
  let failure: { error: unknown } | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => {
        if (failure) return;
        failure = { error: e };
        if (!ctrl.signal.aborted) ctrl.abort(e);
        reject(o.signal?.aborted ? o.signal.reason : e);
      };
      const pump = () => {
        if (failure) return;
        if (ctrl.signal.aborted) {
          fail(ctrl.signal.reason);
          return;
        }
        while (texts.length < o.n && launched < maxRequests && pending < concurrency && texts.length + pending * per < o.n) launch();
        if (pending === 0) resolve();
      };
      const launch = () => {
        const i = launched++;
        pending++;
        o.client.complete([{ role: 'user', content: generatePrompt(o.describe, examples, per, i) }], { temperature, signal: ctrl.signal }).then(
          (answer) => {
            usage.promptTokens += answer.usage.promptTokens;
            usage.completionTokens += answer.usage.completionTokens;
            processing = processing.then(async () => {
              if (failure) return;
              await take(answer.text);
              pending--;
              o.onProgress?.(Math.min(texts.length, o.n), o.n);
              pump();
            });
            processing.catch(fail);
          },
          fail,
        );
      };
      pump();
    });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }

  return {
    texts: texts.slice(0, o.n),
    dropped,
    requests: launched,
    usage,
    prompt: generatePrompt(o.describe, examples, per, 0),
    parameters: {
      model: o.client.model,
      n: o.n,
      batchSize: per,
      maxRequests,
      concurrency,
      temperature,
      dedupThreshold: o.embedder ? threshold : null,
      embedder: o.embedder?.modelId ?? null,
      examples: examples.length,
      personas: GENERATE_PERSONAS,
      tones: GENERATE_TONES,
      lengths: GENERATE_LENGTHS,
      topics: GENERATE_TOPICS,
    },
  };
}
