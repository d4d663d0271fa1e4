/**
 * The one interface every secret backend implements (adapters/*.ts). The broker reaches a backend only
 * through a BackendRegistry, and only after policy has allowed the request; policy code never imports
 * this module's implementations, so "deny before touching" holds by construction.
 */
export interface SecretRef {
  /** Backend name: local, env, keychain, op, doppler, infisical, vault. */
  backend: string;
  /** Everything after `backend:` (for op, after `op://`), `{{tenant}}` already expanded. */
  path: string;
  /** The reference as written, for messages (never a value). */
  raw: string;
}

export interface BackendContext {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  storeFile: string;
  storeKeyFile: string;
  /** local store key location: ask the OS keychain first (auto), or force one. */
  storeKey: 'auto' | 'keychain' | 'file';
}

export interface SecretBackend {
  readonly name: string;
  /** Read one value. Throws BackendError (exit 69) with the reference named and what to do. */
  read(ref: SecretRef): Promise<string>;
  /** Writable backends only. */
  write?(ref: SecretRef, value: string): Promise<void>;
  remove?(ref: SecretRef): Promise<boolean>;
  /** References this backend holds (never values). */
  list?(): Promise<string[]>;
}

export type BackendFactory = (ctx: BackendContext) => SecretBackend;

export interface BackendRegistry {
  get(name: string): Promise<SecretBackend>;
}
