import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDotenvFiles, secretShapeOf } from '../../src/cli/doctor.js';
import { looksLikeSecret } from '../../src/redact/shapes/index.js';

// Values of the right shape, written out (not copied from anywhere): the rule set is that of
// src/redact/shapes, tested in depth in test/redact/shapes.test.ts.
describe('secretShapeOf', () => {
  it.each([
    ['AKIAIOSFODNN7EXAMPLE', 'aws-access-token'],
    ['ghp_0123456789abcdefghijKLMNOPQRSTUVWXYZ', 'github-pat'],
    ['github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd', 'github-fine-grained-pat'],
    ['sk_live_51Hx9vQ2eZvKYlo2C8d7fGh3j', 'stripe-access-token'],
    ['rk_test_4eC39HqLyjWDarjtT1zdp7dc', 'stripe-access-token'],
    ['xoxb-1234567890123-9876543210987-AbCdEfGhIjKlMnOpQrStUvWx', 'slack-bot-token'],
    [`sk-ant-api03-${'Ab1_Cd2-Ef3'.repeat(8)}Gh4IjAA`, 'anthropic-api-key'],
    [`sk-proj-${'Qw3rTy6_uI9oP-aS2dF5gH8jK1lZ4xC7vB0nM'.repeat(2)}`, 'openai-api-key'],
    ['glpat-Xy7_kP2mQ9rT4vW8zB3c', 'gitlab-pat'],
    ['npm_AbCdEf0123456789GhIjKlMnOpQrStUvWxYz', 'npm-access-token'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nabc', 'private-key'],
    ['Bearer ghp_0123456789abcdefghijKLMNOPQRSTUVWXYZ', 'github-pat'],
  ])('%s is %s', (value, id) => {
    expect(looksLikeSecret(value)).toBe(id);
    expect(secretShapeOf(value)).toMatch(new RegExp(`^an? .*\\[${id}\\]$`));
  });

  it.each(['/usr/local/bin:/usr/bin', 'en_US.UTF-8', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'sk-short', 'xterm-256color', 'npm_config_cache', 'ghp_' + 'a'.repeat(36)])(
    '%s is not a secret shape',
    (value) => {
      expect(secretShapeOf(value)).toBeUndefined();
    },
  );
});

describe('findDotenvFiles', () => {
  it('finds .env and .env.* up to two folders down, skipping templates, node_modules, .git and symlinked folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'outloop-dotenv-'));
    try {
      const put = (p: string) => {
        mkdirSync(join(root, p, '..'), { recursive: true });
        writeFileSync(join(root, p), 'X=1\n');
      };
      for (const p of ['.env', '.env.production', '.env.example', '.env.sample', '.envrc-not', 'a/.env', 'a/b/.env.local', 'a/b/c/.env', 'node_modules/x/.env', '.git/.env', 'other/env']) put(p);
      mkdirSync(join(root, 'outside'));
      writeFileSync(join(root, 'outside', '.env'), 'X=1\n');
      symlinkSync(join(root, 'outside'), join(root, 'link'));
      const found = findDotenvFiles(root).map((f) => relative(root, f));
      expect(found.sort()).toEqual(['.env', '.env.production', 'a/.env', 'a/b/.env.local', 'outside/.env'].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
