/**
 * Atomic file writes: data goes to a temporary file in the target's folder, is flushed to disk,
 * then renamed over the target. Readers see the old file or the new one, never a torn one, even
 * if the writer is killed with SIGKILL mid-write (the temp file is left behind, never the target).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';

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

/**
 * Fill a folder atomically: `fill` writes into a hidden temporary sibling of `target`, which is
 * renamed to `target` only when `fill` succeeds; on failure it is removed. So `target` either does
 * not exist or is complete. An existing non-empty `target` is an error (named `flag`) unless
 * `replace`, in which case the old folder is swapped out and removed after the rename.
 */
export async function writeDirAtomic<T>(
  target: string,
  fill: (dir: string) => Promise<T>,
  options: { replace?: boolean; flag?: string } = {},
): Promise<T> {
  const flag = options.flag ?? 'dir';
  let exists = false;
  try {
    const st = await fsp.stat(target);
    if (!st.isDirectory()) {
      throw new InvalidArgumentError(flag, `${JSON.stringify(target)} exists and is not a folder`);
    }
    exists = (await fsp.readdir(target)).length > 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (exists && !options.replace) {
    throw new InvalidArgumentError(flag, `${JSON.stringify(target)} already exists and is not empty; choose a new folder or pass --force to replace it`);
  }
  const parent = path.dirname(path.resolve(target));
  await fsp.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.partial`);
  await fsp.mkdir(tmp);
  try {
    const result = await fill(tmp);
    if (exists) {
      const old = `${tmp}.old`;
      await fsp.rename(target, old);
      await fsp.rename(tmp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rm(target, { recursive: true, force: true }); // an empty folder
      await fsp.rename(tmp, target);
    }
    return result;
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
