/**
 * `op://VAULT/ITEM[/SECTION]/FIELD` — 1Password, read through its own CLI with
 * `op read --no-newline op://VAULT/ITEM[/SECTION]/FIELD`.
 *
 * op does its own authentication, so this works the same with the desktop-app integration (biometric
 * unlock per read) and with a service account (OP_SERVICE_ACCOUNT_TOKEN in the broker's environment).
 * The reference on argv is fine: it names where the value lives, it is not the value.
 *
 * Facts this relies on (the fake in test/backends/fakes/op reproduces them):
 * - `-n, --no-newline  Do not print a new line after the secret` (op read reference, developer.1password.com
 *   /docs/cli/reference/commands/read; also chezmoi's onepasswordRead, which runs `op read --no-newline URL`).
 *   So stdout is the field exactly, and a PEM key that ends in a newline keeps it.
 * - Errors go to stderr as `[ERROR] YYYY/MM/DD HH:MM:SS <message>` with exit status 1 (Go log format;
 *   chezmoi's own op mock prints the same shape).
 */
import type { BackendContext, BackendFactory, SecretRef } from '../src/secrets/backend.js';
import { CliSecretBackend, refParts, type CliBackendOptions, type VendorCli } from '../src/secrets/cli-backend.js';

const SHAPE = 'op://VAULT/ITEM[/SECTION]/FIELD';

function split(ref: SecretRef): { vault: string; item: string; field: string } {
  const parts = refParts(ref, SHAPE, { min: 3, max: 4 });
  return { vault: parts[0]!, item: parts[1]!, field: parts[parts.length - 1]! };
}

// Matched against lower-cased stderr. The quoted lines are op's own wording as recorded by projects that
// classify it (op 2.34-2.39); a later op that rewords them degrades to backend_unavailable, never to a leak.
const AUTH = [
  'not currently signed in', // "error initializing client: You are not currently signed in. Please run `op signin --help` for instructions"
  'account is not signed in',
  'no accounts configured', // "No accounts configured for use with 1Password CLI." (op 2.35, no app integration, no account)
  'could not find session token', // "could not find session token for account my"
  'session expired',
  'decodesacredentials', // a malformed OP_SERVICE_ACCOUNT_TOKEN: "Validation: (failed to session.DecodeSACredentials) ..."
  '(401) unauthorized',
  'authorization timeout', // the desktop app's approval prompt was not answered
  'connecting to desktop app',
];
const SCOPE = [
  "isn't a vault in this account", // "\"V\" isn't a vault in this account. Specify the vault with its ID or name."
  '(403) forbidden', // "(403) Forbidden: You aren't authorized to access this resource."
];
const NOT_FOUND = [
  "isn't an item in the", // "\"nope\" isn't an item in the \"V\" vault. Specify the item with its UUID, name, or domain."
  'does not have a field', // "item 'V/engagement' does not have a field 'nope'"
  "couldn't find item",
];

export const opCli: VendorCli = {
  backend: 'op',
  command: 'op',
  product: 'the 1Password CLI (op)',
  install: 'https://developer.1password.com/docs/cli/get-started/ (macOS: brew install 1password-cli)',
  signIn: 'run: op signin, or set OP_SERVICE_ACCOUNT_TOKEN (with the desktop app: unlock it and turn on its CLI integration)',
  addsNewline: false,
  argv(ref) {
    split(ref);
    return ['read', '--no-newline', `op://${ref.path}`];
  },
  failures: [['auth', AUTH], ['scope', SCOPE], ['not_found', NOT_FOUND]],
  notFound(ref) {
    const { vault, item, field } = split(ref);
    return {
      message: `1Password has no item "${item}" with a field "${field}" in vault "${vault}" (${ref.raw})`,
      next: `Check the item and field names (op item list --vault "${vault}" lists names only), then fix the reference in config.yaml.`,
    };
  },
  scope(ref) {
    const { vault } = split(ref);
    return {
      message: `1Password vault "${vault}" is not visible to the signed-in account or service account (${ref.raw})`,
      next: `Check the vault name, sign in to the account that holds it (OP_ACCOUNT), or give the service account access to "${vault}".`,
    };
  },
  timeoutNext: 'Unlock 1Password or approve its CLI prompt, then retry; for unattended use set OP_SERVICE_ACCOUNT_TOKEN.',
};

/** With options, for tests that need a short deadline. */
export function createBackendWith(ctx: BackendContext, options: CliBackendOptions = {}): CliSecretBackend {
  return new CliSecretBackend(opCli, ctx, options);
}

export const createBackend: BackendFactory = (ctx) => createBackendWith(ctx);
