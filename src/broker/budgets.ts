import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { withFileLock } from '../fs/lock.js';
import { InternalError } from '../errors.js';
import { LONGEST_WINDOW_MS, type Budget, type Usage } from '../policy/guardrails.js';

/**
 * Budget counts, shared by every outloop process on the machine: `budgets.json` in the state folder maps
 * a budget key to the times of the allowed calls it counted. Read, decided on and charged under one
 * lock, so six concurrent calls against a 3/min budget let exactly three through.
 */
export class BudgetStore {
  private readonly file: string;
  constructor(stateDir: string) {
    this.file = join(stateDir, 'budgets.json');
  }

  /** Snapshot for `check` and dry runs: no lock, nothing charged. */
  peek(): Usage {
    return this.read();
  }

  /**
   * Decide with the current counts and, if the decision charges budgets, record this call against them,
   * all under the lock. `decideWith` is the pure policy; it returns the budgets to charge (none on denial).
   */
  async charge<T>(now: number, decideWith: (usage: Usage) => { result: T; charge: readonly Budget[] }): Promise<T> {
    try {
      return await withFileLock(`${this.file}.lock`, () => {
        const usage = this.read();
        const { result, charge } = decideWith(usage);
        if (charge.length) {
          const next: Record<string, number[]> = {};
          // Forget what no window can reach any more, so the file stays small.
          for (const [k, times] of Object.entries(usage)) {
            const kept = times.filter((t) => t > now - LONGEST_WINDOW_MS);
            if (kept.length) next[k] = kept;
          }
          for (const b of charge) next[b.key] = [...(next[b.key] ?? []), now];
          writeFileAtomic(this.file, JSON.stringify(next), 0o600);
        }
        return result;
      });
    } catch (err) {
      if (err instanceof Error && 'path' in err && (err as { path?: string }).path?.endsWith('.lock')) {
        throw new InternalError(`cannot count this call against its budget: ${err.message}; nothing was run`, { code: 'budget_unavailable' });
      }
      throw err;
    }
  }

  private read(): Usage {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return data && typeof data === 'object' ? (data as Usage) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      // A damaged count file must not silently reset every budget to zero: fail closed.
      throw new InternalError(`the budget counts in ${this.file} cannot be read (${(err as Error).message}); nothing was run`, {
        code: 'budget_unavailable',
        next: `Move ${this.file} aside to start the counts again.`,
      });
    }
  }
}
