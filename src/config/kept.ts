import { statSync } from 'node:fs';

/**
 * Parsed config and recipes kept by a process that starts before its request: the daemon's spare worker
 * (src/system/worker.ts) parses them while it waits. The request reuses a result only while every file
 * it came from is still the very file that was read: same device, inode, size, mtime and ctime, and a
 * file that was missing is still missing. Anything else and the request parses afresh (and a load that
 * fails is never kept), so a person's edit takes effect on the next request. Off unless a process turns
 * it on: a command line process loads each file once anyway.
 *
 * Stamps are compared, not contents. Every write moves ctime, which no user can set back, but only to
 * the kernel's coarse clock: a file changed again within the same tick as it was read could keep its
 * stamp. So a file read less than RACY_MS after its last change is not kept (git's "racily clean"
 * entries); a ctime ahead of this clock counts as recent too.
 */
const RACY_MS = 2000;

interface Entry {
  stamps: string[];
  files: readonly string[];
  value: unknown;
}

let kept: Map<string, Entry> | undefined;

export function keepParsed(): void {
  kept ??= new Map();
}

/**
 * `load()`'s result, or the one kept under `key` while `files` (every path it reads, missing ones too)
 * are unchanged. `key` must name whatever else the result depends on.
 */
export async function keptOrLoad<T>(key: string, files: readonly string[], load: () => Promise<T>): Promise<T> {
  if (!kept) return load();
  const hit = kept.get(key);
  if (hit && hit.files.every((f, i) => stampOf(f)?.text === hit.stamps[i])) return hit.value as T;
  kept.delete(key);
  const before = files.map(stampOf);
  const value = await load();
  const now = Date.now();
  const steady = before.every((s, i) => s !== undefined && !(now - s.changedMs < RACY_MS) && stampOf(files[i]!)?.text === s.text);
  if (steady) kept.set(key, { files: [...files], stamps: before.map((s) => s!.text), value });
  return value;
}

/** What a change to the file would move; undefined when it cannot be read (kept as nothing). */
function stampOf(file: string): { text: string; changedMs: number } | undefined {
  let st;
  try {
    st = statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES, ENOTDIR, ELOOP...: the load reports it, every time
  }
  if (!st) return { text: '-', changedMs: -Infinity };
  return { text: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(st.ctimeNs / 1_000_000n) };
}
