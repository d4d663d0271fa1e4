/**
 * The child's environment starts empty, not from outloop's: only locale, PATH and terminal settings pass,
 * so ambient tokens in the agent's environment (GITHUB_TOKEN, AWS_*) never reach a recipe by accident.
 */
const PASS = new Set(['PATH', 'LANG', 'TZ', 'TERM']);

export function childEnv(parent: NodeJS.ProcessEnv, workdir: string, recipeEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v !== undefined && (PASS.has(k) || k.startsWith('LC_'))) env[k] = v;
  }
  env.HOME = workdir;
  env.TMPDIR = workdir;
  return { ...env, ...recipeEnv };
}
