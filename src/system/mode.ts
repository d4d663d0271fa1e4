/**
 * Which mode this process serves. Set once by the daemon's worker; personal mode is the default. Kept
 * free of imports so that code shared by both modes (doctor) can ask without loading anything.
 */
export interface SystemContext {
  prefix: string;
  /** The caller, from SO_PEERCRED. */
  peer: { uid: number; gid: number; pid: number };
  /** The agent session the caller's process belongs to, if any: its tenant and its root's pid. */
  session?: string;
  sessionRoot?: number;
}

let current: SystemContext | undefined;

export function enterSystemMode(ctx: SystemContext): void {
  current = ctx;
}

export function systemContext(): SystemContext | undefined {
  return current;
}
