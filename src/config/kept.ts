import { sha256Hex } from '../digest.js';
import { statSync } from 'node:fs';
import { readRegularFile } from '../fs/read-regular.js';

/**
 * Parsed config and recipes kept by a process that starts before its request: the daemon's spare worker
 * (src/system/worker.ts) parses them while it waits. The request reuses a result only while every file
 * it came from is still the very file that was read: same device, inode, size, mtime and ctime, and a
 * file that was missing is still missing. Anything else and the request parses afresh (a load that
 * failed is never kept), so a person's edit takes effect on the next request. Off unless a process turns
 * it on: a command line process reads each file once anyway.
 *
 * Every write moves ctime, which no user can set back, but only to the kernel's coarse clock: a file
 * changed again within the same tick as it was read keeps its stamp. So for a file read less than
 * RACY_MS after its last change (or with a ctime ahead of this clock), the request also reads it again
 * and compares its bytes with those that were parsed, as git does for a "racily clean" index entry.
 */
const RACY_MS = 2000;

/** The loader reads its files through this, so what is kept is tied to the very bytes it parsed. */
export type Read = (file: string) => string;

interface Stamp {
  text: string;
  changedMs: number;
}

interface Entry {
  files: readonly string[];
  stamps: string[];
  /** SHA-256 of the bytes read, for the files read soon after a change (checked again each time). */
  racy: Map<string, string>;
  value: unknown;
}

let kept: Map<string, Entry> | undefined;
/** Once the request has begun, nothing more is kept and each result is handed out once. */
let storing = false;

/** The spare, before its request: keep what is loaded. */
export function keepParsed(): void {
  kept ??= new Map();
  storing = true;
}

/**
 * The request has begun: a kept result still current is used once, and what is loaded from now on is
 * not kept. A request that loads the same file twice (an MCP session's calls) gets fresh objects each
 * time, as in personal mode, never one a previous call may have touched.
 */
export function useKept(): void {
  storing = false;
}

/**
 * `load(read)`'s result, or the one kept under `key` while `files` (every path the load may read, missing
 * ones too) are unchanged. `key` must name whatever else the result depends on.
 */
export async function keptOrLoad<T>(key: string, files: readonly string[], load: (read: Read) => Promise<T>): Promise<T> {
  if (!kept) return load(readRegularFile);
  const hit = kept.get(key);
  if (!storing) kept.delete(key);
  if (hit && current(hit)) return hit.value as T;
  kept.delete(key);
  if (!storing) return load(readRegularFile);
  const now = Date.now();
  const before = files.map(stampOf);
  const hashes = new Map<string, string>();
  const value = await load((file) => {
    const text = readRegularFile(file);
    hashes.set(file, sha256Hex(text));
    return text;
  });
  const racy = new Map<string, string>();
  let steady = true;
  files.forEach((f, i) => {
    const s = before[i];
    if (!s || stampOf(f)?.text !== s.text) steady = false;
    else if (now - s.changedMs < RACY_MS) {
      const h = hashes.get(f);
      if (h === undefined) steady = false; // changed just now and not read: nothing to compare with
      else racy.set(f, h);
    }
  });
  if (steady) kept.set(key, { files: [...files], stamps: before.map((s) => s!.text), racy, value });
  return value;
}

function current(e: Entry): boolean {
  return e.files.every((f, i) => {
    if (stampOf(f)?.text !== e.stamps[i]) return false;
    const h = e.racy.get(f);
    if (h === undefined) return true;
    try {
      return sha256Hex(readRegularFile(f)) === h;
    } catch {
      return false;
    }
  });
}

/** What a change to the file would move; undefined when it cannot be looked at (then nothing is kept). */
function stampOf(file: string): Stamp | undefined {
  let st;
  try {
    st = statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES, ENOTDIR, ELOOP...: the load reports it, every time
  }
  if (!st) return { text: '-', changedMs: -Infinity };
  return { text: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(st.ctimeNs / 1_000_000n) };
}
