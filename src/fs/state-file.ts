import { readFileSync } from 'node:fs';
import { InternalError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import type { Check } from './shape.js';
import { LockTimeoutError, withFileLock } from './lock.js';

/**
 * A small JSON file of outloop's own state (budget counts, approvals), shared by every process on the
 * machine: read, decided on and rewritten under one lock, written atomically (0600). Fail closed: a
 * missing file is empty, but a damaged, wrong-shaped or locked one stops the request (exit 70 with the
 * store's code, the file and the first problem named, and a next step), because reading it as empty would
 * reset every budget or forget every denial.
 */
export interface StateFileOptions<T> {
  /** What the file holds, for messages: "the budget counts". */
  what: string;
  /** The error code when it cannot be read or locked. */
  code: string;
  /** What a person can do about a damaged file. */
  next: string;
  empty: () => T;
  /**
   * The shape the file must have (fs/shape.ts). Anything else stops the request, as a damaged file does:
   * reading `[]` or `null` as empty would reset the budgets or forget the denials.
   */
  shape: Check;
  lockTimeoutMs?: number;
}

export class JsonStateFile<T> {
  constructor(
    readonly file: string,
    private readonly opts: StateFileOptions<T>,
  ) {}

  read(): T {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.opts.empty();
      throw new InternalError(`${this.opts.what} in ${this.file} cannot be read (${(err as Error).message}); nothing was run`, {
        code: this.opts.code,
        next: this.opts.next,
      });
    }
    const problem = this.opts.shape(data, '');
    if (problem) {
      throw new InternalError(`${this.opts.what} in ${this.file} are not in the shape outloop writes (${problem}); nothing was run`, {
        code: this.opts.code,
        next: this.opts.next,
      });
    }
    return data as T;
  }

  write(value: T): void {
    writeFileAtomic(this.file, JSON.stringify(value), 0o600);
  }

  async locked<R>(fn: () => Promise<R> | R): Promise<R> {
    try {
      return await withFileLock(`${this.file}.lock`, fn, { timeoutMs: this.opts.lockTimeoutMs });
    } catch (err) {
      if (err instanceof LockTimeoutError) {
        throw new InternalError(`${this.opts.what} in ${this.file} stayed locked (${err.message}); nothing was run`, { code: this.opts.code });
      }
      throw err;
    }
  }
}
