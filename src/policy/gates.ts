/**
 * The record of a gate sequence, shared by every decision (exec's decide, run's decideRun): gates run in a
 * fixed order, each pass is noted, and the first failure is noted with every later gate as not reached,
 * so `check` and the deny output always show the whole sequence.
 */
export interface GateResult<N extends string> {
  name: N;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

export function gateLog<N extends string>(order: readonly N[]) {
  const gates: GateResult<N>[] = [];
  return {
    gates,
    pass(name: N, detail: string): void {
      gates.push({ name, status: 'pass', detail });
    },
    /** The failing gate and everything after it; returns the finished list. */
    fail(name: N, reason: string): GateResult<N>[] {
      gates.push({ name, status: 'fail', detail: reason });
      for (const g of order.slice(order.indexOf(name) + 1)) gates.push({ name: g, status: 'skip', detail: 'not reached' });
      return gates;
    },
  };
}
