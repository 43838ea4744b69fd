/**
 * A progress bar for long jobs on stderr (cli-progress): done/total, rows per second and ETA.
 * Draws in place on a TTY; with `force` on a non-TTY it prints a plain line every few seconds
 * and a final one, so logs stay readable.
 */
import { SingleBar } from 'cli-progress';

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Units shown after the counts and in the rate, e.g. `rows`. Default `rows`. */
  unit?: string;
  /** Text before the bar, e.g. `embedding`. */
  label?: string;
  /** Where to draw. Default `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Draw even when `stream` is not a TTY. Default false (draw only on a TTY). */
  force?: boolean;
  /** Seconds between lines on a non-TTY. Default 5. */
  nonTtyIntervalS?: number;
}

/** A running bar. All methods are no-ops when the bar is disabled. */
export interface ProgressBar {
  /** Whether anything is drawn. */
  readonly enabled: boolean;
  /** Set the number of units done (and optionally change the total). */
  update(done: number, total?: number): void;
  /** Draw the final state and release the line. */
  stop(): void;
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  if (perSecond >= 100) return Math.round(perSecond).toLocaleString('en-US');
  return perSecond.toFixed(1);
}

/** Start a bar over `total` units (see {@link ProgressBarOptions}). */
export function createProgressBar(total: number, options: ProgressBarOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const enabled = Boolean(stream.isTTY) || Boolean(options.force);
  if (!enabled) return { enabled: false, update: () => undefined, stop: () => undefined };
  const unit = options.unit ?? 'rows';
  const label = options.label ? `${options.label} ` : '';
  const start = Date.now();
  let done = 0;
  const bar = new SingleBar({
    stream,
    format: `${label}[{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
    barsize: 30,
    hideCursor: null,
    noTTYOutput: !stream.isTTY,
    notTTYSchedule: Math.round((options.nonTtyIntervalS ?? 5) * 1000),
    etaBuffer: 50,
    fps: 5,
  });
  const rate = () => formatRate(done / Math.max(1e-3, (Date.now() - start) / 1000));
  bar.start(total, 0, { rate: '0' });
  let stopped = false;
  return {
    enabled: true,
    update(value: number, newTotal?: number) {
      if (stopped) return;
      done = value;
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(value, { rate: rate() });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.update(done, { rate: rate() });
      bar.stop();
    },
  };
}
