/** A small concurrency limiter: run at most `n` async tasks at once. */
import { InvalidArgumentError } from '../errors';

/** Runs a task when a slot is free; see {@link createLimiter}. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * Create a limiter that runs at most `concurrency` tasks at a time, in the order they were
 * submitted. Each call resolves or rejects with its own task's result.
 */
export function createLimiter(concurrency: number, argument = 'concurrency'): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(argument, `must be a positive integer, got ${concurrency}`);
  }
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= concurrency) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        let p: Promise<T>;
        try {
          p = task();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          active--;
          next();
        });
      });
      next();
    });
}

/**
 * Map `items` through async `fn` with at most `concurrency` calls in flight; results keep the
 * input order. On the first rejection no new calls start and the returned promise rejects with
 * that error (calls already running are awaited first, so nothing is left dangling).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError('concurrency', `must be a positive integer, got ${concurrency}`);
  }
  const results: R[] = [];
  results.length = items.length;
  let nextIndex = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && nextIndex < items.length) {
      const i = nextIndex++;
      try {
        results[i] = await fn(items[i], i);
      } catch (e) {
        if (!failed) {
          failed = true;
          firstError = e;
        }
      }
    }
  };
  const workers: Array<Promise<void>> = [];
  for (let w = 0; w < Math.min(concurrency, items.length); w++) workers.push(worker());
  await Promise.all(workers);
  if (failed) throw firstError;
  return results;
}
