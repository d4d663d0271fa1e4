import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { AuditRecord } from '../../src/audit/index.js';
import { AuditLog } from '../../src/audit/index.js';
import type { BrokerDeps } from '../../src/broker/exec.js';
import { validateConfigText } from '../../src/config/validate.js';
import type { Config } from '../../src/config/schema.js';
import { BackendError } from '../../src/errors.js';
import { resolveHomes, type Homes } from '../../src/paths.js';
import { GATES, type Decision, type GateName } from '../../src/policy/decide.js';
import { lintRecipeText } from '../../src/recipe/lint.js';
import type { ServiceRecipes } from '../../src/recipe/load.js';
import type { BackendRegistry, SecretRef } from '../../src/secrets/backend.js';

/** A fresh real-path folder per call, removed after the test (real path so cwd comparisons are exact). */
export function useTempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'outloop-core-')));
    made.push(dir);
    return dir;
  };
}

export function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The 1-based line of the first line containing `needle`, so tests do not hard-code line numbers. */
export function lineOf(text: string, needle: string, from = 1): number {
  const lines = text.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  throw new Error(`"${needle}" not in text`);
}

/** 1-based column of `needle` on the line where it first appears. */
export function colOf(text: string, needle: string): number {
  const line = text.split('\n')[lineOf(text, needle) - 1]!;
  return line.indexOf(needle) + 1;
}

/** Recipes through the real linter, so decide() sees exactly what the loader would give it. */
export function serviceFrom(yaml: string, file = '/recipes/demo.yaml'): ServiceRecipes {
  const res = lintRecipeText(file, yaml);
  const errors = res.problems.filter((p) => p.severity !== 'warning');
  if (errors.length) throw new Error(`recipe fixture does not lint: ${JSON.stringify(errors)}`);
  return { service: res.service!, files: [res.file], recipes: new Map(res.recipes.map((r) => [r.name, r])) };
}

export function configFrom(yaml: string): Config {
  return validateConfigText('/home/u/.config/outloop/config.yaml', yaml);
}

/** Gates before `failing` passed, `failing` failed, every later gate was skipped, in GATES order. */
export function expectGates(d: Decision, failing: GateName): void {
  expect(d.gates.map((g) => g.name)).toEqual(GATES);
  const at = GATES.indexOf(failing);
  d.gates.forEach((g, i) => expect(g.status, g.name).toBe(i < at ? 'pass' : i === at ? 'fail' : 'skip'));
}

/**
 * A registry that counts every touch. `values` maps a reference (after {{tenant}} expansion) to its value;
 * an unknown reference is a backend error, as a real one would be.
 */
export function countingBackends(values: Record<string, string> = {}) {
  const state = { gets: 0, reads: [] as SecretRef[] };
  const registry: BackendRegistry = {
    get: async (name) => {
      state.gets++;
      return {
        name,
        read: async (ref) => {
          state.reads.push(ref);
          const v = values[ref.raw];
          if (v === undefined) throw new BackendError(name, `no value for ${ref.raw}`);
          return v;
        },
      };
    },
  };
  return { state, factory: () => registry };
}

export interface Home {
  root: string;
  homes: Homes;
  builtin: string;
  writeConfig(yaml: string): void;
  writeRecipe(service: string, yaml: string): void;
  deps(cwd: string, backends: BrokerDeps['backends'], env?: NodeJS.ProcessEnv): BrokerDeps;
  audit(): AuditRecord[];
  auditText(): string;
}

/** A real OUTLOOP_HOME in a temp folder, with an empty built-in recipes folder so only the test's recipes exist. */
export function makeHome(root: string): Home {
  const homes = resolveHomes({ OUTLOOP_HOME: join(root, 'home') });
  const builtin = join(root, 'builtin-recipes');
  mkdirSync(homes.recipesDir, { recursive: true });
  mkdirSync(builtin, { recursive: true });
  return {
    root,
    homes,
    builtin,
    writeConfig: (yaml) => write(homes.configFile, yaml),
    writeRecipe: (service, yaml) => write(join(homes.recipesDir, `${service}.yaml`), yaml),
    deps: (cwd, backends, env = {}) => ({
      homes,
      env: { PATH: process.env.PATH, HOME: join(root, 'userhome'), OUTLOOP_HOME: join(root, 'home'), ...env },
      cwd,
      builtinRecipesDir: builtin,
      backends,
      output: 'collect',
    }),
    audit: () => new AuditLog(homes.auditFile).readAll(),
    auditText: () => {
      try {
        return readFileSync(homes.auditFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}
