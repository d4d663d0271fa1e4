import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Read a file outloop is configured by (config.yaml, a recipe) only if it is a regular file of a sane
 * size. A FIFO would block the read forever and /dev/urandom never ends; both are refused before any
 * byte is read. O_NONBLOCK keeps the open itself from waiting for a FIFO's writer.
 * Errors keep the errno-style `code` (ENOENT passes through as is; ENOTREG, EFBIG for these refusals).
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export function readRegularFile(path: string, maxBytes = MAX_CONFIG_BYTES): string {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file (a FIFO, device or folder)'), { code: 'ENOTREG' });
    if (st.size > maxBytes) throw Object.assign(new Error(`larger than ${maxBytes / 1024 / 1024} MiB`), { code: 'EFBIG' });
    // Read to the size seen, and one byte more: a file that grows meanwhile is refused, not read forever.
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > st.size) throw Object.assign(new Error('grew while being read'), { code: 'EFBIG' });
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
