/**
 * Retry with exponential backoff and full jitter, plus an abortable `sleep`. Used by every
 * network client in synapse-g (embedding APIs, LLM clients).
 */

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). Default 5. */
  maxRetries?: number;
  /** Delay scale of the first retry, in ms. Default 500. */
  baseDelayMs?: number;
  /** Upper bound of any single delay (including a server's `Retry-After`), in ms. Default 60 000. */
  maxDelayMs?: number;
  /** Abort waiting and retrying; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
  /**
   * Decide whether `error` (thrown by attempt number `attempt`, 0-based) is worth retrying.
   * Return `false` to give up and rethrow, `true` to wait the backoff delay, or a number of ms
   * to wait instead (e.g. from a `Retry-After` header; capped at `maxDelayMs`). Default: always
   * retry.
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean | number;
  /** Called before each wait, e.g. for logging. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
}

/**
 * The delay before retry number `attempt` (0-based): "full jitter" exponential backoff, a
 * uniform draw from `[0, min(maxDelayMs, baseDelayMs * 2^attempt))`, but never below a tenth
 * of that cap so retries do not hammer a struggling server.
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap * (0.1 + 0.9 * random()));
}

/** Resolve after `ms` milliseconds; reject with `signal.reason` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` until it resolves, retrying rejected attempts as {@link RetryOptions.shouldRetry}
 * allows, with exponential backoff and jitter between attempts. `fn` receives the 0-based
 * attempt number. Rethrows the last error when retries are exhausted or not allowed.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxRetries = options.maxRetries ?? 5;
  const base = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 60_000;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted || attempt >= maxRetries) throw error;
      const verdict = options.shouldRetry ? options.shouldRetry(error, attempt) : true;
      if (verdict === false) throw error;
      const delayMs =
        typeof verdict === 'number'
          ? Math.min(Math.max(0, verdict), maxDelay)
          : backoffDelay(attempt, base, maxDelay, random);
      options.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * Parse an HTTP `Retry-After` header (delta-seconds or an HTTP date) into milliseconds from
 * `now`. Returns `undefined` when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}
