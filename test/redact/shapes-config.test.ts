import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { redactShapes, shapesFor } from '../../src/redact/shapes/index.js';
import { lineOf, useTempDirs, write } from '../core/helpers.js';

const tempDir = useTempDirs();

const BASE = `tenants: {}
redact:
  disable: [twilio-account-sid]
  rules:
    - id: acme-internal-token
      keywords: [acme_tok_]
      pattern: '\\bacme_tok_(?<secret>[A-Za-z0-9]{24})\\b'
      entropy: 3
`;

async function load(text: string) {
  const file = write(join(tempDir(), 'config.yaml'), text);
  return { file, result: await loadConfig(file, { HOME: '/home/u' }).then((c) => c, (e: unknown) => e) };
}

describe('config.yaml redact: rules and disable', () => {
  it('loads user rules, and they redact alongside the packaged ones', async () => {
    const { result } = await load(BASE);
    expect(result).not.toBeInstanceOf(Error);
    const redact = (result as Awaited<ReturnType<typeof loadConfig>>).config.redact;
    expect(redact?.disable).toEqual(['twilio-account-sid']);
    const set = shapesFor(redact);
    const out = redactShapes('id acme_tok_Q2x9LmP4rT7vW1yZ3bN6cF8h and AC0123456789abcdef0123456789abcdef', set).text;
    expect(out).toBe('id acme_tok_[REDACTED:acme-internal-token] and AC0123456789abcdef0123456789abcdef');
  });

  it('a pattern that is not a regular expression is a config error (exit 78) at its line', async () => {
    const text = BASE.replace("pattern: '\\bacme_tok_(?<secret>[A-Za-z0-9]{24})\\b'", "pattern: '(unclosed'");
    const { file, result } = await load(text);
    expect(result).toBeInstanceOf(ConfigError);
    const err = result as ConfigError;
    expect(err.exitCode).toBe(78);
    expect(err.problems[0]).toMatchObject({ file, line: lineOf(text, '(unclosed') });
    expect(err.problems[0]?.message).toMatch(/acme-internal-token: pattern is not a valid regular expression/);
  });

  it('a pattern matching the empty string, a one-byte keyword and an unknown field are rejected', async () => {
    for (const [edit, why] of [
      [(t: string) => t.replace(/pattern: .*/, "pattern: 'x*'"), /matches the empty string/],
      [(t: string) => t.replace('[acme_tok_]', '[a]'), /shorter than 2 bytes/],
      [(t: string) => t.replace('entropy: 3', 'entropy: 3\n      colour: red'), /unknown key "colour"/],
    ] as const) {
      const { result } = await load(edit(BASE));
      expect(result).toBeInstanceOf(ConfigError);
      expect((result as ConfigError).problems.map((p) => p.message).join('\n')).toMatch(why);
    }
  });
});
