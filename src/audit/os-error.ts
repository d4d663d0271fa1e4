/**
 * A short human reason for a failed file operation, e.g. `permission denied (EACCES)`. Written from the
 * errno code rather than copied from err.message, which repeats the path and the syscall name.
 */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent of the path is not a folder',
  EISDIR: 'the path is a folder',
  ENOENT: 'no such file or folder',
  EEXIST: 'a file is in the way',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'path too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
};

export function describeOsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `${REASONS[code] ?? 'system error'} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
