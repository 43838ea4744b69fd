/**
 * JSON over HTTP with the retry policy every API client in synapse-g shares: per-attempt
 * timeouts, retries with exponential backoff and jitter on 429, 5xx, timeouts and network
 * errors (honouring `Retry-After`), and a clear, non-retried error on any other 4xx.
 * Secrets (API keys) are scrubbed from every error message.
 */
import { InvalidArgumentError, SynapseError } from '../errors';
import { parseRetryAfter, retry } from './retry';

/** An HTTP request failed: a non-2xx status, a timeout, a network error or an unreadable body. */
export class HttpError extends SynapseError {
  /** HTTP status, or 0 when no response arrived (timeout, connection refused or reset). */
  readonly status: number;
  /** Whether the failure is transient (429, 5xx, timeout, network). */
  readonly retryable: boolean;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    status: number,
    retryable: boolean,
    retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, status === 0 ? 'HTTP_NETWORK' : `HTTP_${status}`, options);
    this.name = 'HttpError';
    this.status = status;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Options of {@link postJson}. */
export interface PostJsonOptions {
  /** Extra request headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Per-attempt timeout in ms, covering the response body too. Default 60 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 5. */
  maxRetries?: number;
  /** Backoff scale in ms. Default 500. */
  baseDelayMs?: number;
  /** Cap of any single wait in ms (also caps `Retry-After`). Default 60 000. */
  maxDelayMs?: number;
  /** Abort the request and any waits; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Strings to scrub from error messages (API keys). */
  secrets?: readonly string[];
  /** What is being called, for messages, e.g. `OpenAI embeddings`. Default `HTTP request`. */
  what?: string;
  /** Called before each retry wait. */
  onRetry?: (info: { error: HttpError; attempt: number; delayMs: number }) => void;
}

/** Replace each secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** Status codes worth retrying: 408, 409 (lock contention), 425, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** The server's error message out of a JSON error body (`{error: {message}}` and friends). */
function serverMessage(body: string): string {
  let msg = body;
  try {
    const j = JSON.parse(body) as unknown;
    if (j && typeof j === 'object') {
      const o = j as Record<string, unknown>;
      const e = o.error;
      if (e && typeof e === 'object' && typeof (e as Record<string, unknown>).message === 'string') {
        msg = (e as Record<string, string>).message;
      } else if (typeof e === 'string') {
        msg = e;
      } else if (typeof o.message === 'string') {
        msg = o.message;
      } else if (typeof o.detail === 'string') {
        msg = o.detail;
      }
    }
  } catch {
    // not JSON: use the text
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === 'TimeoutError' || (e.cause as Error | undefined)?.name === 'TimeoutError');
}

/** A URL safe to print: no credentials, no query string. */
function printable(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * POST `body` as JSON to `url` and return the parsed JSON response, retrying transient
 * failures. Throws {@link HttpError} (never containing a secret) when the request fails for
 * good, or the signal's reason when `options.signal` aborts.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions = {}): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const what = options.what ?? 'HTTP request';
  const secrets = options.secrets ?? [];
  const where = printable(url);
  const payload = JSON.stringify(body);
  const maxRetries = options.maxRetries ?? 5;
  const attemptOnce = async (): Promise<unknown> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let text: string;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
        body: payload,
        signal,
      });
      text = await res.text();
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted || isTimeout(e)) {
        throw new HttpError(`${what}: no response from ${where} within ${timeoutMs} ms`, 0, true, undefined, {
          cause: e,
        });
      }
      const err = e as Error;
      const cause = (err.cause as Error | undefined)?.message ?? '';
      const detail = redact([err.message, cause].filter(Boolean).join(': '), secrets);
      throw new HttpError(`${what}: request to ${where} failed: ${detail}`, 0, true, undefined, { cause: e });
    }
    if (!res.ok) {
      const retryable = isRetryableStatus(res.status);
      const msg = redact(serverMessage(text), secrets);
      throw new HttpError(
        `${what}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${where}${msg ? `: ${msg}` : ''}`,
        res.status,
        retryable,
        parseRetryAfter(res.headers.get('retry-after')),
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      const head = redact(text.slice(0, 120), secrets);
      throw new HttpError(`${what}: response from ${where} is not JSON: ${JSON.stringify(head)}`, res.status, false, undefined, {
        cause: e,
      });
    }
  };
  try {
    return await retry(attemptOnce, {
      maxRetries,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      signal: options.signal,
      shouldRetry: (e) => {
        if (!(e instanceof HttpError) || !e.retryable) return false;
        return e.retryAfterMs ?? true;
      },
      onRetry: options.onRetry
        ? (info) => options.onRetry?.({ error: info.error as HttpError, attempt: info.attempt, delayMs: info.delayMs })
        : undefined,
    });
  } catch (e) {
    if (e instanceof HttpError && e.retryable && maxRetries > 0) {
      throw new HttpError(`${e.message} (gave up after ${maxRetries + 1} attempts)`, e.status, true, e.retryAfterMs, {
        cause: e,
      });
    }
    throw e;
  }
}

/** An integer option: `dflt` when undefined, else at least `min` (1 or 0), or an error naming it. */
export function intOption(name: string, v: number | undefined, dflt: number, min: 0 | 1 = 1): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(name, `must be a ${min === 1 ? 'positive' : 'non-negative'} integer, got ${v}`);
  }
  return v;
}

/** Where an OpenAI-compatible endpoint lives and how to authenticate to it. */
export interface ApiEndpoint {
  /** The base URL without a trailing slash. */
  baseUrl: string;
  /** `baseUrl` + the endpoint path. */
  url: string;
  /** Request headers (the bearer key, when there is one, plus `headers`). */
  headers: Record<string, string>;
  /** Strings to keep out of error messages. */
  secrets: string[];
}

/**
 * Resolve an OpenAI-compatible endpoint: base URL from the option, else `OPENAI_BASE_URL`, else
 * `defaultBase` (checked to be http(s)); key from the option, else `OPENAI_API_KEY`.
 */
export function apiEndpoint(
  options: { baseUrl?: string; apiKey?: string; headers?: Record<string, string> },
  endpoint: string,
  defaultBase: string,
): ApiEndpoint {
  const rawBase = options.baseUrl ?? process.env.OPENAI_BASE_URL ?? defaultBase;
  let base: URL;
  try {
    base = new URL(rawBase);
  } catch {
    throw new InvalidArgumentError('baseUrl', `not a valid URL: ${JSON.stringify(rawBase)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new InvalidArgumentError('baseUrl', `must be an http(s) URL, got ${base.protocol}`);
  }
  const baseUrl = rawBase.replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? '';
  const headers: Record<string, string> = { ...options.headers };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return { baseUrl, url: `${baseUrl}${endpoint}`, headers, secrets: apiKey ? [apiKey] : [] };
}
