import { UsageError } from '../errors.js';

/** `-p k=v` (repeatable) into a map; the value may itself contain "=". */
export function collectParam(value: string, prev: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`-p expects NAME=VALUE, got "${value}"`, { next: 'Pass each parameter as -p name=value.' });
  const key = value.slice(0, eq);
  if (Object.hasOwn(prev, key)) throw new UsageError(`parameter "${key}" given twice`);
  return { ...prev, [key]: value.slice(eq + 1) };
}

/** `stripe.list-invoices` into its parts. */
export function parseTarget(target: string): { service: string; recipe: string } {
  const m = /^([a-z0-9][a-z0-9_-]*)\.([a-z0-9][a-z0-9_-]*)$/.exec(target);
  if (!m) throw new UsageError(`"${target}" is not SERVICE.RECIPE (for example stripe.list-invoices)`, { next: 'Run `outloop recipes list` to see what exists.' });
  return { service: m[1]!, recipe: m[2]! };
}
