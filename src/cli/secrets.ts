import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { storeKeyNote } from './key-note.js';
import { parseStore } from '../../adapters/local-format.js';
import { hasSessionBus } from '../../adapters/os-keychain.js';
import { BackendError, UsageError } from '../errors.js';
import { resolveHomes } from '../paths.js';
import { shortValueProblem } from '../redact/short-values.js';
import { parseRef } from '../secrets/ref.js';
import type { BackendRegistry } from '../secrets/backend.js';
import { registryFor } from './deps.js';
import type { CliOptions } from './main.js';
import { writeJson } from './output.js';
import { readSecretValue } from './prompt.js';

/** The backends, set up as config.yaml says (where the local store's key lives), and that config. */
async function registry(): Promise<{ reg: BackendRegistry; loaded: LoadedConfig }> {
  const homes = resolveHomes(process.env);
  const loaded = await loadConfig(homes.configFile, process.env);
  return { reg: registryFor(homes, process.env, loaded.config.storeKey), loaded };
}

export async function setCommand(rawRef: string, rest: string[], _opts: CliOptions): Promise<number> {
  if (rest.length) {
    throw new UsageError('secret values are never taken from the command line (argv is visible to every local user through ps and lands in shell history)', {
      next: `Pipe it: printf %s "$VALUE" | outloop secrets set ${rawRef}, or run without a value to get a hidden prompt.`,
    });
  }
  const ref = parseRef(rawRef);
  const backend = await (await registry()).reg.get(ref.backend);
  if (!backend.write) throw new BackendError(ref.backend, `the ${ref.backend} backend is read-only from outloop`, { code: 'backend_read_only', next: 'Store the value with that backend\'s own tool, or use local:.' });
  const homes = resolveHomes(process.env);
  const firstStore = ref.backend === 'local' && !existsSync(homes.storeFile);
  const value = await readSecretValue(ref.raw);
  await backend.write(ref, value);
  process.stderr.write(`Stored a value for ${ref.raw}.\n`);
  // The run that created the store: say once where its key went and what that protects against.
  if (firstStore) {
    const source = parseStore(readFileSync(homes.storeFile, 'utf8'), homes.storeFile).keySource;
    const keychainHere = process.platform !== 'linux' || hasSessionBus(process.env);
    const note = storeKeyNote(source, homes.storeKeyFile, keychainHere);
    process.stderr.write(`Created the local store ${homes.storeFile}; its ${note.message}.\n${note.fix ? `next: ${note.fix}\n` : ''}`);
  }
  // The one moment outloop sees a value with a person present: say now if it is too short to mask well.
  const short = shortValueProblem(value);
  if (short) process.stderr.write(`warning: ${ref.raw}: ${short.message}.\n`);
  return 0;
}

export async function rmCommand(rawRef: string, _opts: CliOptions): Promise<number> {
  const ref = parseRef(rawRef);
  const backend = await (await registry()).reg.get(ref.backend);
  if (!backend.remove) throw new BackendError(ref.backend, `the ${ref.backend} backend is read-only from outloop`, { code: 'backend_read_only' });
  const removed = await backend.remove(ref);
  if (!removed) throw new BackendError(ref.backend, `nothing is stored for ${ref.raw}`, { code: 'secret_not_found', next: 'Run `outloop secrets list` to see what is stored.' });
  process.stderr.write(`Removed ${ref.raw}.\n`);
  return 0;
}

export async function listCommand(o: { json?: boolean }, _opts: CliOptions): Promise<number> {
  const { reg, loaded } = await registry();
  const local = await reg.get('local');
  const stored = new Set(local.list ? await local.list() : []);
  // Which grants point at which reference, so a person sees what a value is for (and what is missing).
  const usedBy = new Map<string, string[]>();
  for (const [tenant, t] of Object.entries(loaded.config.tenants)) {
    for (const [service, g] of Object.entries(t.services)) {
      for (const [name, raw] of Object.entries(g.secrets)) {
        const ref = raw.replaceAll('{{tenant}}', tenant);
        usedBy.set(ref, [...(usedBy.get(ref) ?? []), `${tenant}/${service}.${name}`]);
      }
    }
  }
  const refs = [...new Set([...stored, ...usedBy.keys()])].sort();
  const rows = refs.map((ref) => ({
    ref,
    stored: ref.startsWith('local:') ? stored.has(ref) : null,
    usedBy: usedBy.get(ref) ?? [],
  }));
  if (o.json) {
    writeJson(rows);
    return 0;
  }
  if (!rows.length) {
    process.stdout.write('No secrets stored or referenced yet. Store one with: outloop secrets set local:TENANT/NAME\n');
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.ref.length));
  for (const r of rows) {
    const state = r.stored === null ? 'external' : r.stored ? 'stored' : 'MISSING';
    process.stdout.write(`${r.ref.padEnd(w)}  ${state.padEnd(8)}  ${r.usedBy.join(', ') || '(not used by any grant)'}\n`);
  }
  return 0;
}
