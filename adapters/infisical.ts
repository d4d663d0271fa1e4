/**
 * `infisical:PROJECT_ID/ENV/[FOLDER/...]NAME` — Infisical, read through its own CLI with
 * `infisical secrets get NAME --plain --projectId ID --env ENV --path /FOLDER/...`.
 * `infisical:pid/dev/NAME` reads from the root folder, `--path /`.
 *
 * The CLI authenticates from INFISICAL_TOKEN (machine identity or service token) or from `infisical login`
 * (config under HOME). Project, environment and path are always passed, so a .infisical.json in the
 * directory outloop runs in never decides which secret is read.
 *
 * Facts this relies on, from github.com/Infisical/infisical cli/ (the fake in test/backends/fakes/infisical
 * reproduces them):
 * - packages/cmd/secrets.go getSecretsByNames(): with --plain, each found secret is printed with
 *   `fmt.Println(secret.Value)` (one trailing newline), and a name that is not found is skipped: nothing is
 *   printed and the exit status is 0. Empty stdout therefore means "not found".
 * - packages/util/log.go: errors go to stderr as "error: <message>", exit status 1.
 * - docs (infisical.com/docs/cli/commands/secrets): INFISICAL_DISABLE_UPDATE_CHECK "can improve the time it
 *   takes to run this command. Recommended for production environments", so it is on unless the broker's
 *   environment says otherwise.
 */
import type { BackendContext, BackendFactory, SecretRef } from '../src/secrets/backend.js';
import { CliSecretBackend, refParts, type CliBackendOptions, type VendorCli } from '../src/secrets/cli-backend.js';

const SHAPE = 'infisical:PROJECT_ID/ENV/[FOLDER/...]NAME';

function split(ref: SecretRef): { projectId: string; env: string; path: string; name: string } {
  const parts = refParts(ref, SHAPE, { min: 3, max: 64 });
  return {
    projectId: parts[0]!,
    env: parts[1]!,
    path: `/${parts.slice(2, -1).join('/')}`,
    name: parts[parts.length - 1]!,
  };
}

// Matched against lower-cased stderr.
const AUTH = [
  'must be logged in', // "You must be logged in to run this command. To login, run [infisical login]"
  'login expired',
  'login session has expired', // "Your login session has expired, please run [infisical login] and try again"
  'no valid login session',
  "couldn't find your logged in details",
  'token missing or invalid', // API 401 message
  'status-code=401',
  'response code: 401',
];
const SCOPE = [
  'environment with slug', // API 404: "Environment with slug 'x' in project with ID 'y' not found"
  'project with id',
  'folder with path', // "Folder with path '/x' in environment with slug 'dev' not found"
  'do not have permission', // API 403: "You do not have permission to read secrets in this environment"
  'status-code=403',
  'response code: 403',
  'status-code=404',
  'response code: 404',
  'please make sure your secret path, workspace and environment name are all correct',
];

export const infisicalCli: VendorCli = {
  backend: 'infisical',
  command: 'infisical',
  product: 'the Infisical CLI (infisical)',
  install: 'https://infisical.com/docs/cli/overview (macOS: brew install infisical/get-cli/infisical)',
  signIn: 'run: infisical login, or set INFISICAL_TOKEN',
  addsNewline: true,
  envDefaults: { INFISICAL_DISABLE_UPDATE_CHECK: 'true' },
  argv(ref) {
    const { projectId, env, path, name } = split(ref);
    return ['secrets', 'get', name, '--plain', '--projectId', projectId, '--env', env, '--path', path];
  },
  failures: [['auth', AUTH], ['scope', SCOPE]],
  notFound(ref) {
    const { projectId, env, path, name } = split(ref);
    return {
      message: `Infisical has no secret ${name} in folder ${path} of environment "${env}" in project ${projectId} (${ref.raw})`,
      next: 'Check the secret name and folder in the Infisical dashboard, then fix the reference in config.yaml.',
    };
  },
  scope(ref) {
    const { projectId, env, path } = split(ref);
    return {
      message: `Infisical project ${projectId}, environment "${env}" or folder ${path} was not found, or the identity cannot read it (${ref.raw})`,
      next: 'Check the project ID, environment slug and folder path; a machine identity needs access to that environment.',
    };
  },
  timeoutNext: 'Check that the Infisical server is reachable from here (INFISICAL_API_URL for self-hosted), then retry.',
};

/** With options, for tests that need a short deadline. */
export function createBackendWith(ctx: BackendContext, options: CliBackendOptions = {}): CliSecretBackend {
  return new CliSecretBackend(infisicalCli, ctx, options);
}

export const createBackend: BackendFactory = (ctx) => createBackendWith(ctx);
