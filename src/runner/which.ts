import { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';

/** Find a command the way execvp would, so "curl not found" is a clear error before any secret is read. */
export function findExecutable(cmd: string, path: string | undefined, cwd: string): string | undefined {
  const candidates = cmd.includes('/') ? [isAbsolute(cmd) ? cmd : join(cwd, cmd)] : (path ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/**
 * The system's own program folders, in the order a default PATH lists them. A bare recipe command
 * (`curl`) and bwrap are looked up only here, never on the caller's PATH: the caller is the agent, and a
 * `curl` of its own first on PATH would receive the key in whatever form it likes.
 */
export const SYSTEM_BIN = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'] as const;

/**
 * Why `file` (and the folder chain above it, both as written and as resolved through symlinks) could be
 * swapped by someone other than `owners` (root always counts), or undefined when it cannot. A file or
 * folder writable by group or others fails too, except a root-owned sticky folder (/tmp) above an entry
 * that `owners` own.
 */
export function untrustedBecause(file: string, owners: readonly number[] = []): string | undefined {
  const mine = (st: Stats) => st.uid === 0 || owners.includes(st.uid);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return `${file} does not exist`;
  }
  // The lexical chain matters for the folders a symlink sits in (who could re-point it); the real chain
  // for the file that runs.
  for (const start of new Set([resolve(file), real])) {
    let below: Stats | undefined;
    for (let p = start; ; p = dirname(p)) {
      let st: Stats;
      try {
        st = statSync(p);
      } catch {
        return `${p} cannot be read`;
      }
      if (!mine(st)) return `${p} is owned by uid ${st.uid}`;
      // A sticky folder others may write (/tmp) lets none of them rename or delete what they do not own.
      const sticky = (st.mode & 0o1000) !== 0 && st.uid === 0 && below !== undefined && mine(below);
      if ((st.mode & 0o022) !== 0 && !sticky) return `${p} is writable by group or others`;
      if (dirname(p) === p) break;
      below = st;
    }
  }
  return undefined;
}

/** The PATH a recipe's child gets: the system folders, then the folder of the node running outloop. */
export function recipePath(execPath: string = process.execPath): string {
  const own = dirname(execPath);
  return [...SYSTEM_BIN, ...((SYSTEM_BIN as readonly string[]).includes(own) ? [] : [own])].join(delimiter);
}

/** The first `name` in SYSTEM_BIN that only root can change, or undefined. */
export function resolveSystemCommand(name: string): string | undefined {
  for (const d of SYSTEM_BIN) {
    const exe = findExecutable(name, d, '/');
    if (exe && !untrustedBecause(exe)) return exe;
  }
  return undefined;
}

export interface ResolvedCommand {
  /** What is started (absolute; a symlink is kept as written so a multi-call binary sees its name). */
  path: string;
  /** sha256 of the file that runs (the symlink's target). */
  sha256: string;
  /** system: a bare name found in SYSTEM_BIN; node: outloop's own node; pinned: an absolute path in the recipe. */
  via: 'system' | 'node' | 'pinned';
}

export interface CommandSource {
  /** run[0] begins with `{{recipe.dir}}` in the recipe. */
  inRecipeDir: boolean;
  /** run[0] rendered (params cannot appear in it: lint). */
  rendered: string;
  /** The recipe file and its folder: a pinned command must be as safe as the file that names it. */
  recipeFile: string;
  recipeDir: string;
  /** The node running outloop: `node` in a recipe means this one. */
  execPath?: string;
}

export type Resolution = { ok: true; cmd: ResolvedCommand } | { ok: false; code: 'command_not_found' | 'command_untrusted'; message: string; next: string };

/**
 * Which file a recipe's run[0] starts, under the rules in docs (command resolution):
 * - `node`: the node running outloop (it is trusted already: it runs outloop).
 * - any other bare name: the first executable in SYSTEM_BIN whose file and folders belong to root and
 *   are writable by no one else. The caller's PATH is never read.
 * - an absolute path (a literal, or `{{recipe.dir}}/...`): pinned by the recipe file. The file and every
 *   folder above it must belong to root or to the recipe file's owner, writable by no one else, so only
 *   whoever can already edit the recipe can change what it runs. A `{{recipe.dir}}` path must stay inside
 *   that folder once symlinks are resolved.
 * - a relative path: refused (the child's cwd is its private run folder, not the recipe's).
 */
export function resolveRecipeCommand(src: CommandSource, hashes?: HashCache): Resolution {
  const { rendered } = src;
  const notFound = (message: string, next: string): Resolution => ({ ok: false, code: 'command_not_found', message, next });
  const untrusted = (message: string, next: string): Resolution => ({ ok: false, code: 'command_untrusted', message, next });
  const done = (path: string, via: ResolvedCommand['via']): Resolution => {
    const sha256 = fileSha256(path, via !== 'pinned' || !untrustedBecause(path) ? hashes : undefined);
    return sha256 ? { ok: true, cmd: { path, sha256, via } } : notFound(`${path} cannot be read`, `Check the permissions of ${path}.`);
  };
  if (!rendered.includes('/')) {
    if (rendered === 'node' && src.execPath) return done(src.execPath, 'node');
    const exe = resolveSystemCommand(rendered);
    if (exe) return done(exe, 'system');
    let refused: string | undefined;
    for (const d of SYSTEM_BIN) {
      const skipped = findExecutable(rendered, d, '/');
      if (skipped) refused ??= `${skipped} was skipped: ${untrustedBecause(skipped)}`;
    }
    return notFound(
      `${rendered} not found in the system folders (${SYSTEM_BIN.join(', ')})${refused ? `; ${refused}` : ''}; recipe commands are never looked up on PATH`,
      `Install ${rendered} system-wide, or pin its absolute path as run[0] in ${src.recipeFile}.`,
    );
  }
  if (!isAbsolute(rendered)) {
    return untrusted(`run[0] ${rendered} is a relative path`, `Write it as "{{recipe.dir}}/${rendered.replace(/^\.\//, '')}" or an absolute path in ${src.recipeFile}.`);
  }
  let owner: number;
  try {
    owner = statSync(src.recipeFile).uid;
  } catch {
    return notFound(`${src.recipeFile} cannot be read`, `Check ${src.recipeFile}.`);
  }
  const exe = findExecutable(rendered, undefined, '/');
  if (!exe) return notFound(`${rendered} not found or not executable`, `Install it, or fix run[0] in ${src.recipeFile}.`);
  if (src.inRecipeDir) {
    const dir = realpathSync(src.recipeDir);
    if (!realpathSync(exe).startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
      return untrusted(`${rendered} leads outside the recipe folder ${src.recipeDir}`, `Keep the script itself in ${src.recipeDir}, not a symlink out of it.`);
    }
  }
  const why = untrustedBecause(exe, [owner]);
  if (why) {
    return untrusted(`${rendered} (run[0] of ${src.recipeFile}) could be replaced by someone other than the recipe's owner: ${why}`,
      `chmod go-w the file and its folders, or move it where only root or uid ${owner} can write.`);
  }
  return done(exe, 'pinned');
}

/**
 * sha256 of the file that runs, for the audit. A binary as large as node (100 MB) would cost more than the
 * whole exec, so the hash is kept per file identity: device, inode, size, mtime and ctime. Content cannot
 * change without changing ctime, which no unprivileged user can set back, so a planted entry can only
 * name a file as it really is.
 */
export interface HashCache {
  get(key: string): string | undefined;
  set(key: string, sha256: string): void;
}

export function fileSha256(path: string, cache?: HashCache): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const key = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
    const hit = cache?.get(key);
    if (hit) return hit;
    // node:crypto only on a miss: a stream, and an exec that hits the cache never loads it (src/digest.ts).
    const h = process.getBuiltinModule('node:crypto').createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    const hex = h.digest('hex');
    cache?.set(key, hex);
    return hex;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The hash cache kept in the state folder. It is used only for files nobody but root can change (and
 * outloop's own node): for those an entry names a file as it is. A script the recipe's owner can edit is
 * hashed on every run, so a planted entry cannot put an old hash on new content.
 */
export function stateHashCache(stateDir: string): HashCache {
  const file = join(stateDir, 'command-sha256.json');
  let entries: Record<string, string> | undefined;
  const load = () => {
    if (entries) return entries;
    try {
      const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      entries = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
    } catch {
      entries = {};
    }
    return entries;
  };
  return {
    get: (key) => {
      const v = load()[key];
      return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
    },
    set: (key, sha256) => {
      const keep = Object.entries(load()).slice(-63);
      entries = Object.fromEntries([...keep, [key, sha256]]);
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(entries), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        /* no state folder yet: hash again next time */
      }
    },
  };
}
