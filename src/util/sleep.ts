/** A timer as a promise, without node:timers/promises (a module of its own that every exec would load). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
