/**
 * Where the local store's key is, and what that means, in one wording for `secrets set` (the run that
 * creates the store) and `doctor`. A key file beside the store protects against other users and a stray
 * copy of store.json, not against a program running as you: an agent with a shell reads both files.
 */
export function storeKeyNote(source: 'keychain' | 'file', keyFile: string, keychainHere: boolean): { severity: 'ok' | 'warn'; message: string; fix?: string } {
  if (source === 'keychain') {
    return { severity: 'ok', message: 'key in the OS keychain: a copy of the store alone decrypts nothing' };
  }
  return {
    severity: 'warn',
    message: `key in the file ${keyFile} (mode 600)${keychainHere ? '' : ', as no OS keychain answers here'}: other users cannot read it, but any program running as you (an agent with a shell) can read the store and its key`,
    fix: keychainHere
      ? 'Prefer the keychain: set storeKey: keychain (or auto) in config.yaml before creating a store, or run outloop in system mode (outloop system install).'
      : 'On a desktop, run outloop inside a session with a keyring (Secret Service, macOS Keychain); on a shared or headless machine, use system mode (outloop system install), where the key belongs to another user.',
  };
}
