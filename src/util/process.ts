import { readFileSync } from 'node:fs';

/** Is a process with this pid alive? EPERM means it exists but belongs to someone else. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process started, as the kernel counts it (clock ticks since boot, /proc/PID/stat field 22), or
 * undefined where that cannot be read (not Linux, the process is gone). With the pid it names one process
 * for good: a pid the kernel hands to a new process after the old one died comes with another start time.
 */
let ownStart: string | undefined | null = null;
/** This process's own start time: read once, it cannot change. */
export function ownStartTime(): string | undefined {
  if (ownStart === null) ownStart = startTime(process.pid);
  return ownStart;
}

export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Is this the very process that had `started` as its start time (see startTime)? */
export function isSameProcess(pid: number, started: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (started === undefined) return true;
  const now = startTime(pid);
  // Where start times cannot be read here, a live pid is all there is to go on.
  return now === undefined || now === started;
}
