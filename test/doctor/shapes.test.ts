import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDotenvFiles, secretShapeOf } from '../../src/cli/doctor.js';

describe('secretShapeOf', () => {
  it.each([
    ['AKIAIOSFODNN7EXAMPLE', 'an AWS access key id'],
    ['ghp_' + 'a'.repeat(36), 'a GitHub token'],
    ['github_pat_' + 'A1_'.repeat(10), 'a GitHub token'],
    ['sk_live_' + 'x'.repeat(24), 'a Stripe key'],
    ['rk_test_' + 'x'.repeat(24), 'a Stripe key'],
    ['xoxb-1234567890-abcdef', 'a Slack token'],
    ['sk-ant-api03-' + 'x'.repeat(30), 'an Anthropic key'],
    ['sk-proj-' + 'x'.repeat(30), 'an OpenAI-style key'],
    ['glpat-' + 'x'.repeat(20), 'a GitLab token'],
    ['npm_' + 'a'.repeat(36), 'an npm token'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nabc', 'a private key'],
    ['Bearer ghp_' + 'b'.repeat(36), 'a GitHub token'],
  ])('%s is %s', (value, kind) => {
    expect(secretShapeOf(value)).toBe(kind);
  });

  it.each(['/usr/local/bin:/usr/bin', 'en_US.UTF-8', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'sk-short', 'xterm-256color', 'npm_config_cache'])(
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
