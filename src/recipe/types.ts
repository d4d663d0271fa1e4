import type { ConfigProblem } from '../errors.js';
import type { ParamSpec, Surface } from './schema.js';
import type { Template } from './template.js';
import type { OutputSpec } from '../output/contract.js';

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
  /** Every run element, groups flattened; see runGroups. */
  run: Template[];
  /**
   * Parallel to run: -1 for an element always present, else the index of its optional group (a nested list
   * in the file). Absent when the recipe has no group. See selectedRun().
   */
  runGroups?: number[];
  env: Record<string, Template>;
  stdin: Template | undefined;
  files: Record<string, Template>;
  timeoutMs: number;
  /** Run under a pseudo-terminal (`pty: true`). */
  pty?: boolean;
  /** The secrets this recipe's env/stdin/files reference: the only ones read for it. */
  secrets: string[];
  /** The recipe's own output contract, before a grant tightens it. */
  output?: OutputSpec;
  /**
   * Files that curl only ever sends as the request body (`--json @F` / `--data-binary @F`, named nowhere
   * else): data for the URL the host gate checked, so URLs inside them are not request targets.
   */
  bodyFiles?: string[];
  /** The least the bound key must be allowed (catalogue only; never a policy input). */
  scopes?: string[];
  /** What kind of key the file's secrets are (catalogue only). */
  credential?: string;
  /** When a later recipe folder's file replaced this action: the file it replaced (`recipes show`). */
  overrides?: string;
  /** Output cap in bytes (stdout + stderr), memory cap in bytes, paths the sandbox shows. */
  maxOutput?: number;
  maxMemory?: number;
  sandboxPaths?: { path: Template; mode: 'ro' | 'rw' }[];
  /** The file's `placeholders`: where the proxy may put each secret's value (only those listed). */
  placeholders?: Record<string, Surface[]>;
  /** The file's `sign`: placeholder runs re-sign requests to the hosts (AWS SigV4). */
  sign?: 'aws-sigv4';
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
