import { describe, expect, it } from 'vitest';
import { looksLikeSecretValue, parseEnvFile, runEnv, secretLikeName } from '../../src/runner/run-env.js';

describe('what outloop run strips from the parent environment', () => {
  it.each([
    'GITHUB_TOKEN', 'github_token', 'STRIPE_KEY', 'OPENAI_API_KEY', 'CLIENT_SECRET', 'DB_PASSWORD', 'MYSQL_PASSWD', 'SMTP_PASS',
    'GITLAB_PAT', 'GOOGLE_APPLICATION_CREDENTIALS', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID',
    'NPM_CONFIG__AUTH', 'SENTRY_DSN', 'SESSION_COOKIE', 'AZURE_STORAGE_CONNECTION_STRING', 'TOKEN', 'PASSWORD', 'SSH_PRIVATE_KEY',
    'PGPASSWORD', 'MYSQL_PWD', 'GPG_PASSPHRASE', 'OP_SESSION_my', 'REDISCLI_AUTH',
  ])('by name: %s', (n) => expect(secretLikeName(n)).toBe(true));

  it.each(['PATH', 'HOME', 'TERM', 'LANG', 'SSH_AUTH_SOCK', 'KEYBOARD', 'NODE_ENV', 'PASSTHROUGH', 'TOKENIZER', 'MONKEY_BUSINESS', 'GPG_TTY', 'PWD', 'OLDPWD'])(
    'keeps by name: %s',
    (n) => expect(secretLikeName(n)).toBe(false),
  );

  it('by value: provider key shapes, private keys, URLs with a password', () => {
    expect(looksLikeSecretValue(`sk_live_${'a1B2c3D4e5'.repeat(3)}`)).toBeDefined();
    // Realistic random bodies: the shape rules ignore low-entropy look-alikes such as ghp_AAAA...
    expect(looksLikeSecretValue('ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6')).toBeDefined();
    expect(looksLikeSecretValue(`ghp_${'A'.repeat(36)}`)).toBeUndefined();
    expect(looksLikeSecretValue('-----BEGIN OPENSSH PRIVATE KEY-----\nabc')).toBeDefined();
    expect(looksLikeSecretValue('postgres://app:hunter2@db/app')).toBeDefined();
    expect(looksLikeSecretValue('https://example.com/path')).toBeUndefined();
    expect(looksLikeSecretValue('postgres://app@db/app')).toBeUndefined();
    expect(looksLikeSecretValue('/usr/local/bin:/usr/bin')).toBeUndefined();
  });

  it('builds parent minus stripped, plus plain, plus injected (injected wins)', () => {
    const r = runEnv(
      { PATH: '/bin', GITHUB_TOKEN: 'x', HIDDEN: `sk_test_${'z9'.repeat(10)}`, STRIPE_KEY: 'ambient', NODE_ENV: 'dev', UNSET: undefined },
      { STRIPE_KEY: 'granted' },
      { PORT: '3000' },
    );
    expect(r.env).toEqual({ PATH: '/bin', NODE_ENV: 'dev', PORT: '3000', STRIPE_KEY: 'granted' });
    expect(r.stripped).toEqual(['GITHUB_TOKEN', 'HIDDEN', 'STRIPE_KEY']);
  });
});

describe('--env-file', () => {
  it('reads references, plain values, comments, export and quotes', () => {
    const f = parseEnvFile('# c\n\nexport A="op://Vault/Item/field"\nB=local:acme/b\r\nC=\'local:{{tenant}}/c\'\nPORT=3000\nEMPTY=\n', 'x.env');
    expect(f.refs).toEqual([
      { name: 'A', ref: 'op://Vault/Item/field', at: 'x.env:3' },
      { name: 'B', ref: 'local:acme/b', at: 'x.env:4' },
      { name: 'C', ref: 'local:{{tenant}}/c', at: 'x.env:5' },
    ]);
    expect(f.plain).toEqual([
      { name: 'PORT', value: '3000', at: 'x.env:6' },
      { name: 'EMPTY', value: '', at: 'x.env:7' },
    ]);
  });
  it('refuses a value where a reference belongs, naming the line and never the value', () => {
    const value = 'sk_live_51Hx9QaL2kTz8RmV4cWp7YbN3dJ6';
    for (const text of [`STRIPE_KEY=${value}`, `X=${value}`, 'API_TOKEN=hunter2']) {
      let err: unknown;
      try {
        parseEnvFile(`# refs\n${text}\n`, '.env');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'secret_in_env_file', exitCode: 64 });
      expect((err as Error).message).toContain('.env:2');
      expect((err as Error).message).not.toContain(value);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
  it('refuses lines that are not NAME=...', () => {
    expect(() => parseEnvFile('just words\n', 'f')).toThrow(/f:1: not a NAME=reference line/);
  });
});
