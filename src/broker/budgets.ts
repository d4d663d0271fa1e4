import { join } from 'node:path';
import { JsonStateFile } from '../fs/state-file.js';
import { listOf, num, recordOf } from '../fs/shape.js';
import { LONGEST_WINDOW_MS, type Budget, type Usage } from '../policy/guardrails.js';

/**
 * Budget counts, shared by every outloop process on the machine: `budgets.json` in the state folder maps
 * a budget key to the times of the allowed calls it counted. Read, decided on and charged under one
 * lock, so six concurrent calls against a 3/min budget let exactly three through.
 */
export class BudgetStore {
  private readonly state: JsonStateFile<Usage>;
  constructor(stateDir: string) {
    const file = join(stateDir, 'budgets.json');
    this.state = new JsonStateFile<Usage>(file, {
      what: 'the budget counts',
      code: 'budget_unavailable',
      next: `Move ${file} aside (the budgets then count from zero again), or restore it from a backup.`,
      empty: () => ({}),
      // budget key -> times (ms) of the calls it counted
      shape: recordOf(listOf(num)),
    });
  }

  /** Snapshot for `check` and dry runs: no lock, nothing charged. */
  peek(): Usage {
    return this.state.read();
  }

  /**
   * Decide with the current counts and, if the decision charges budgets, record this call against them,
   * all under the lock. `decideWith` is the pure policy; it returns the budgets to charge (none on denial).
   */
  charge<T>(now: number, decideWith: (usage: Usage) => { result: T; charge: readonly Budget[] }): Promise<T> {
    return this.state.locked(() => {
      const usage = this.state.read();
      const { result, charge } = decideWith(usage);
      if (charge.length) {
        const next: Record<string, number[]> = {};
        // Forget what no window can reach any more, so the file stays small.
        for (const [k, times] of Object.entries(usage)) {
          const kept = times.filter((t) => t > now - LONGEST_WINDOW_MS);
          if (kept.length) next[k] = kept;
        }
        for (const b of charge) next[b.key] = [...(next[b.key] ?? []), now];
        this.state.write(next);
      }
      return result;
    });
  }
}
