/**
 * Atomic file writes: data goes to a temporary file in the target's folder, is flushed to disk,
 * then renamed over the target. Readers see the old file or the new one, never a torn one, even
 * if the writer is killed with SIGKILL mid-write (the temp file is left behind, never the target).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Suffix of in-progress temporary files written by {@link writeFileAtomic}. */
export const TEMP_SUFFIX = '.tmp';

/** The temp path used for `target`: hidden, in the same folder (same filesystem), unique. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** fsync the file before the rename (durable against power loss, not just crashes). Default true. */
  fsync?: boolean;
  /** File mode of the new file. Default 0o644 (before umask). */
  mode?: number;
}

/**
 * Write `data` (bytes, a string, or an iterable of chunks) to `target` atomically: temp file,
 * optional fsync, rename. Creates missing parent folders. On failure the temp file is removed
 * and `target` is untouched.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'wx', options.mode ?? 0o644);
  let ok = false;
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await fh.writeFile(data);
    } else {
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        let off = 0;
        while (off < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
          off += bytesWritten;
        }
      }
    }
    if (options.fsync ?? true) await fh.sync();
    await fh.close();
    await fsp.rename(tmp, target);
    ok = true;
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}

/**
 * Remove temp files left in `dir` by killed writers (names ending in {@link TEMP_SUFFIX}) that
 * are older than `olderThanMs` (default one hour, so live writers are left alone). Returns the
 * number removed; a missing folder counts as empty.
 */
export async function removeStaleTempFiles(dir: string, olderThanMs = 3_600_000): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) continue;
    const p = path.join(dir, name);
    try {
      const st = await fsp.stat(p);
      if (now - st.mtimeMs >= olderThanMs) {
        await fsp.rm(p, { force: true });
        removed++;
      }
    } catch {
      // raced with another cleaner or the writer's rename: fine
    }
  }
  return removed;
}
