/**
 * An OpenAI-compatible chat-completions client (hosted APIs, vLLM, llama.cpp server, Ollama,
 * LiteLLM): `POST {baseUrl}/chat/completions`, retries on 429 (honouring `Retry-After`), 5xx,
 * timeouts and network errors with exponential backoff and jitter (via `postJson`), a clear
 * {@link HttpError} on any other 4xx with the API key redacted, a concurrency limit shared by
 * every call of one client, and request/token counts.
 */
import { InvalidArgumentError, SynapseError } from '../errors';
import { apiEndpoint, intOption, postJson } from '../util/http';
import { createLimiter } from '../util/limit';

/** Default base URL when neither the option nor `OPENAI_BASE_URL` is set. */
export const CHAT_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** A chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Options of {@link createChatClient}. */
export interface ChatClientOptions {
  /** Model name sent to the API. */
  model: string;
  /** API root (the part before `/chat/completions`). Default env `OPENAI_BASE_URL`, else {@link CHAT_DEFAULT_BASE_URL}. */
  baseUrl?: string;
  /** Bearer token. Default env `OPENAI_API_KEY` (may be empty for local servers). */
  apiKey?: string;
  /** Per-request timeout in ms (covering the response body). Default 60 000. */
  timeoutMs?: number;
  /** Retries of one request after the first attempt. Default 5. */
  maxRetries?: number;
  /** Backoff scale in ms (the first retry waits about this long). Default 500. */
  baseDelayMs?: number;
  /** Cap of any single retry wait in ms (also caps `Retry-After`). Default 60 000. */
  maxDelayMs?: number;
  /** Requests in flight at once, over every call of this client. Default 4. */
  concurrency?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** Options of {@link ChatClient.complete}. */
export interface ChatCompleteOptions {
  /** Sampling temperature. Default 0. */
  temperature?: number;
  /** `max_tokens` of the answer. Default: the server's. */
  maxTokens?: number;
  /** Ask for a JSON object (`response_format: {type: "json_object"}`). */
  responseFormatJson?: boolean;
  /** Cancels the request and any retry wait; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Token counts of one completion (0 when the server does not report usage). */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
}

/** One answer. */
export interface ChatCompletion {
  /** The assistant's text (`choices[0].message.content`, or its `refusal` when it has no content). */
  text: string;
  usage: ChatUsage;
}

/** Usage counters of a client since it was created. */
export interface ChatStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/** A chat client. */
export interface ChatClient {
  /** The model name sent to the API. */
  readonly model: string;
  /** The base URL used (without a trailing slash). */
  readonly baseUrl: string;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** One chat completion; waits for a free slot under the concurrency limit. */
  complete(messages: readonly ChatMessage[], options?: ChatCompleteOptions): Promise<ChatCompletion>;
  /** Counters so far (a copy). */
  stats(): ChatStats;
}

function tokens(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** Create a chat client. Sends nothing until the first {@link ChatClient.complete}. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  if (!options || typeof options.model !== 'string' || options.model.trim() === '') {
    throw new InvalidArgumentError('model', 'is empty: name the chat model, e.g. gpt-4o-mini');
  }
  const model = options.model.trim();
  const { baseUrl, url, headers, secrets } = apiEndpoint(options, '/chat/completions', CHAT_DEFAULT_BASE_URL);
  const timeoutMs = intOption('timeoutMs', options.timeoutMs, 60_000);
  const maxRetries = intOption('maxRetries', options.maxRetries, 5, 0);
  const baseDelayMs = intOption('baseDelayMs', options.baseDelayMs, 500, 0);
  const maxDelayMs = intOption('maxDelayMs', options.maxDelayMs, 60_000, 0);
  const concurrency = intOption('concurrency', options.concurrency, 4);
  const limit = createLimiter(concurrency, 'concurrency');
  const what = `chat completions (model ${model})`;
  const stats: ChatStats = { requests: 0, promptTokens: 0, completionTokens: 0 };

  const complete = (messages: readonly ChatMessage[], opts: ChatCompleteOptions = {}): Promise<ChatCompletion> => {
    if (!Array.isArray(messages) || messages.length === 0) {
      return Promise.reject(new InvalidArgumentError('messages', 'must be a non-empty array of {role, content}'));
    }
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (!m || typeof m.content !== 'string' || !['system', 'user', 'assistant'].includes(m.role)) {
        return Promise.reject(new InvalidArgumentError(`messages[${i}]`, 'must be {role: "system"|"user"|"assistant", content: string}'));
      }
    }
    return limit(async () => {
      opts.signal?.throwIfAborted();
      const body: Record<string, unknown> = { model, messages, temperature: opts.temperature ?? 0 };
      if (opts.maxTokens !== undefined) body.max_tokens = opts.maxTokens;
      if (opts.responseFormatJson) body.response_format = { type: 'json_object' };
      const res = (await postJson(url, body, {
        headers,
        timeoutMs,
        maxRetries,
        baseDelayMs,
        maxDelayMs,
        signal: opts.signal,
        secrets,
        what,
        onRetry: () => {
          stats.requests++;
        },
      }).finally(() => {
        stats.requests++;
      })) as {
        choices?: { message?: { content?: unknown; refusal?: unknown } }[];
        usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
      } | null;
      const usage: ChatUsage = { promptTokens: tokens(res?.usage?.prompt_tokens), completionTokens: tokens(res?.usage?.completion_tokens) };
      stats.promptTokens += usage.promptTokens;
      stats.completionTokens += usage.completionTokens;
      const message = res?.choices?.[0]?.message;
      const text = typeof message?.content === 'string' ? message.content : typeof message?.refusal === 'string' ? message.refusal : undefined;
      if (text === undefined) {
        throw new SynapseError(`${what}: bad response: no choices[0].message.content`, 'BAD_RESPONSE');
      }
      return { text, usage };
    });
  };

  return {
    model,
    baseUrl,
    concurrency,
    complete,
    stats: () => ({ ...stats }),
  };
}
