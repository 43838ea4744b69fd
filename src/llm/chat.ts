/**
 * An OpenAI-compatible chat-completions client (hosted APIs, vLLM, llama.cpp server, Ollama):
 * `POST {baseUrl}/chat/completions`, retries on 429 (honouring Retry-After), 5xx, timeouts and
 * network errors with backoff (via `postJson`), a clear error on other 4xx with the key redacted,
 * a concurrency limit, and request/token counts.
 */
import { InvalidArgumentError, SynapseError } from '../errors';
import { postJson } from '../util/http';
import { createLimiter } from '../util/limit';

/** A chat message. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Options of {@link createChatClient}. */
export interface ChatClientOptions {
  model: string;
  /** Default env `OPENAI_BASE_URL`, else `https://api.openai.com/v1`. */
  baseUrl?: string;
  /** Default env `OPENAI_API_KEY` (none for local servers). */
  apiKey?: string;
  /** Per-request timeout, ms. Default 60 000. */
  timeoutMs?: number;
  /** Retries of one request. Default 5. */
  maxRetries?: number;
  /** Backoff scale, ms. Default 500. */
  baseDelayMs?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
}

/** Usage counters. */
export interface ChatStats {
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/** A chat client. */
export interface ChatClient {
  readonly model: string;
  complete(messages: ChatMessage[], options?: { temperature?: number; maxTokens?: number; json?: boolean; signal?: AbortSignal }): Promise<string>;
  stats(): ChatStats;
}

/** Create a chat client. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  if (typeof options.model !== 'string' || options.model.trim() === '') throw new InvalidArgumentError('model', 'is empty');
  const baseUrl = (options.baseUrl ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? '';
  const limit = createLimiter(options.concurrency ?? 4, 'concurrency');
  const stats: ChatStats = { requests: 0, promptTokens: 0, completionTokens: 0 };
  return {
    model: options.model,
    stats: () => ({ ...stats }),
    complete(messages, opts = {}) {
      return limit(async () => {
        const body: Record<string, unknown> = { model: options.model, messages, temperature: opts.temperature ?? 0 };
        if (opts.maxTokens !== undefined) body.max_tokens = opts.maxTokens;
        if (opts.json) body.response_format = { type: 'json_object' };
        stats.requests++;
        const res = (await postJson(`${baseUrl}/chat/completions`, body, {
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          timeoutMs: options.timeoutMs,
          maxRetries: options.maxRetries,
          baseDelayMs: options.baseDelayMs,
          signal: opts.signal,
          secrets: [apiKey],
          what: `chat completions (model ${options.model})`,
          onRetry: () => {
            stats.requests++;
          },
        })) as { choices?: { message?: { content?: unknown } }[]; usage?: { prompt_tokens?: number; completion_tokens?: number } };
        stats.promptTokens += res.usage?.prompt_tokens ?? 0;
        stats.completionTokens += res.usage?.completion_tokens ?? 0;
        const content = res.choices?.[0]?.message?.content;
        if (typeof content !== 'string') throw new SynapseError(`chat completions (model ${options.model}): the response has no choices[0].message.content`, 'BAD_RESPONSE');
        return content;
      });
    },
  };
}
