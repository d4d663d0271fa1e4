import type { ConfigProblem } from '../errors.js';
import type { ParamSpec } from './schema.js';
import type { Template } from './template.js';

/** One approved action, ready for policy: templates parsed once, with the file it came from. */
export interface LoadedRecipe {
  service: string;
  name: string;
  description: string;
  risk: 'read' | 'write' | 'admin';
  file: string;
  dir: string;
  /** SHA-256 of the recipe file, recorded in the audit log (and binding approvals later). */
  fileSha256: string;
  hosts: string[];
  params: Record<string, ParamSpec>;
  run: Template[];
  env: Record<string, Template>;
  stdin: Template | undefined;
  files: Record<string, Template>;
  timeoutMs: number;
  /** The secrets this recipe's env/stdin/files reference: the only ones read for it. */
  secrets: string[];
  /** Output cap in bytes (stdout + stderr), memory cap in bytes, paths the sandbox shows. */
  maxOutput?: number;
  maxMemory?: number;
  sandboxPaths?: { path: Template; mode: 'ro' | 'rw' }[];
}

export interface ServiceRecipes {
  service: string;
  /** Recipe files for this service, lowest precedence first. */
  files: string[];
  recipes: Map<string, LoadedRecipe>;
}

export interface LintResult {
  file: string;
  service: string | undefined;
  problems: ConfigProblem[];
  recipes: LoadedRecipe[];
}

export const DEFAULT_TIMEOUT_MS = 60_000;
