/**
 * `doppler:PROJECT/CONFIG/NAME` — Doppler, read through its own CLI with
 * `doppler secrets get NAME --plain --project PROJECT --config CONFIG`.
 *
 * The CLI authenticates from DOPPLER_TOKEN or from `doppler login` (~/.doppler/.doppler.yaml). Project and
 * config are always passed, so the directory outloop runs in (which `doppler setup` may have scoped) never
 * decides which secret is read.
 *
 * Facts this relies on, from github.com/DopplerHQ/cli (the fake in test/backends/fakes/doppler reproduces them):
 * - pkg/printer/enclave.go Secrets(): with --plain, `fmt.Println(strings.Join(vals, "\n"))`, so the value
 *   ends with exactly one newline that is not part of it.
 * - pkg/cmd/secrets.go getSecrets(): a missing name fails with "Could not find requested secret: NAME".
 * - pkg/utils/log.go: errors go to stderr as "Doppler Error: <message>" and exit status 1.
 */
import type { BackendContext, BackendFactory, SecretRef } from '../src/secrets/backend.js';
import { CliSecretBackend, refParts, type CliBackendOptions, type VendorCli } from '../src/secrets/cli-backend.js';

const SHAPE = 'doppler:PROJECT/CONFIG/NAME';

function split(ref: SecretRef): { project: string; config: string; name: string } {
  const [project, config, name] = refParts(ref, SHAPE, { min: 3, max: 3 });
  return { project: project!, config: config!, name: name! };
}

// Matched against lower-cased stderr.
const AUTH = [
  'you must provide a token', // utils.RequireValue("token", ...): "you must provide a token"
  'invalid auth token', // API 401: "Unable to fetch secrets\nDoppler Error: Invalid Auth token"
  'invalid service token',
  'unauthorized',
];
const NOT_FOUND = ['could not find requested secret']; // getSecrets: "Could not find requested secret: NAME"
const SCOPE = [
  'could not find requested project', // API 404 messages for a wrong project or config
  'could not find requested config',
  'does not have access to requested', // a service token scoped to another config
  'you must specify a project',
  'please provide a valid config',
  'forbidden',
];

export const dopplerCli: VendorCli = {
  backend: 'doppler',
  command: 'doppler',
  product: 'the Doppler CLI (doppler)',
  install: 'https://docs.doppler.com/docs/install-cli (macOS: brew install dopplerhq/cli/doppler)',
  signIn: 'run: doppler login, or set DOPPLER_TOKEN',
  addsNewline: true,
  argv(ref) {
    const { project, config, name } = split(ref);
    return ['secrets', 'get', name, '--plain', '--project', project, '--config', config];
  },
  failures: [['auth', AUTH], ['not_found', NOT_FOUND], ['scope', SCOPE]],
  notFound(ref) {
    const { project, config, name } = split(ref);
    return {
      message: `Doppler config ${project}/${config} has no secret ${name} (${ref.raw})`,
      next: `Check the name (doppler secrets --only-names --project ${project} --config ${config} lists names only), then fix the reference in config.yaml.`,
    };
  },
  scope(ref) {
    const { project, config } = split(ref);
    return {
      message: `Doppler project "${project}" or config "${config}" was not found, or the token cannot read it (${ref.raw})`,
      next: `Check the names (doppler configs --project ${project}), or use a token with access to ${project}/${config}.`,
    };
  },
  timeoutNext: 'Check that api.doppler.com is reachable from here, then retry.',
};

/** With options, for tests that need a short deadline. */
export function createBackendWith(ctx: BackendContext, options: CliBackendOptions = {}): CliSecretBackend {
  return new CliSecretBackend(dopplerCli, ctx, options);
}

export const createBackend: BackendFactory = (ctx) => createBackendWith(ctx);
