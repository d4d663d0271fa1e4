import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from '../digest.js';

/**
 * Replace a file's contents all at once: write a temp file beside it, fsync, rename over the target, fsync
 * the folder. A reader sees the old file or the new one, never half of either, and a crash leaves no
 * partial target behind (at worst a temp file that the next write does not depend on).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = writeTemp(path, data, mode);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/**
 * Create a file whole, only if it does not exist yet: the complete, synced temp file is hard-linked into
 * place, so a racing process either wins or sees the other's complete file, and a crash or a full disk
 * never leaves a short file under the name (a key written half would otherwise be read as damaged).
 * Returns false when the name was already taken.
 */
export function createFileExclusive(path: string, data: string | Uint8Array, mode = 0o600): boolean {
  const tmp = writeTemp(path, data, mode);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(dirname(path));
  return true;
}

/** A synced temp file beside `path` holding all of `data` (writeSync may write less than asked). */
function writeTemp(path: string, data: string | Uint8Array, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  return tmp;
}

export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some platforms cannot open a directory; the rename is still atomic there
  }
  try {
    fsyncSync(fd);
  } catch {
    // fsync on a directory is unsupported on some filesystems; the data itself was synced
  } finally {
    closeSync(fd);
  }
}
