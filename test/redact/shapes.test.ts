import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  builtinShapeRules,
  builtinShapes,
  compileShapes,
  exportIndex,
  findShapes,
  looksLikeSecret,
  redactShapes,
  ruleProblem,
  ShapeStream,
  shapesFor,
} from '../../src/redact/shapes/index.js';
import { MAX_LINE } from '../../src/redact/shapes/stream.js';
import { builtinIndexData, builtinRuleData } from '../../src/redact/shapes/rules.generated.js';

// Secrets are generated, never copied from anywhere: a seeded generator keeps failures reproducible.
let seed = 0x5eed;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const B64URL = `${ALNUM}_-`;
const B64 = `${ALNUM}+/`;
const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function pick(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rnd(alphabet.length)];
  return s;
}
const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** [rule id, text, the secret inside it] for every family the rule set must cover. */
function samples(): [string, string, string][] {
  const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${pick(ALNUM, 12)}","iat":1700000000}`)}.${pick(B64URL, 43)}`;
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${pick(B64, 64)}\n${pick(B64, 64)}\n${pick(B64, 20)}==\n-----END RSA PRIVATE KEY-----`;
  const s: [string, string, string][] = [];
  const add = (id: string, text: (v: string) => string, v: string) => s.push([id, text(v), v]);
  add('aws-access-token', (v) => `aws_access_key_id = ${v}`, `AKIA${pick(UPPER32, 16)}`);
  add('aws-access-token', (v) => `"AccessKeyId": "${v}",`, `ASIA${pick(UPPER32, 16)}`);
  add('aws-secret-access-key', (v) => `aws_secret_access_key = ${v}`, pick(B64, 40));
  add('github-pat', (v) => `remote: ${v}`, `ghp_${pick(ALNUM, 36)}`);
  add('github-oauth', (v) => `token ${v}`, `gho_${pick(ALNUM, 36)}`);
  add('github-app-token', (v) => `GITHUB_TOKEN=${v}`, `ghs_${pick(ALNUM, 36)}`);
  add('github-app-token', (v) => `x ${v} y`, `ghu_${pick(ALNUM, 36)}`);
  add('github-refresh-token', (v) => `refresh: ${v}`, `ghr_${pick(ALNUM, 36)}`);
  add('github-fine-grained-pat', (v) => `using ${v}`, `github_pat_${pick(ALNUM, 22)}_${pick(ALNUM, 59)}`);
  add('gitlab-pat', (v) => `PRIVATE-TOKEN: ${v}`, `glpat-${pick(B64URL, 20)}`);
  add('gitlab-ptt', (v) => `trigger ${v}`, `glptt-${pick(HEX, 40)}`);
  add('gitlab-token', (v) => `runner ${v}`, `glrt-${pick(B64URL, 20)}`);
  add('gitlab-token', (v) => `deploy ${v}`, `gldt-${pick(B64URL, 20)}`);
  add('stripe-access-token', (v) => `Stripe.api_key = '${v}'`, `sk_live_${pick(ALNUM, 24)}`);
  add('stripe-access-token', (v) => `key ${v}`, `rk_test_${pick(ALNUM, 24)}`);
  add('stripe-webhook-secret', (v) => `STRIPE_WEBHOOK=${v}`, `whsec_${pick(ALNUM, 32)}`);
  add('slack-bot-token', (v) => `token=${v}`, `xoxb-${pick('0123456789', 12)}-${pick('0123456789', 12)}-${pick(ALNUM, 24)}`);
  add('slack-user-token', (v) => `token=${v}`, `xoxp-${pick('0123456789', 12)}-${pick('0123456789', 12)}-${pick('0123456789', 12)}-${pick(HEX, 32)}`);
  add('slack-app-token', (v) => `SLACK_APP_TOKEN=${v}`, `xapp-1-A${pick(UPPER32, 10)}-${pick('0123456789', 13)}-${pick(HEX, 64)}`);
  add('slack-webhook-url', (v) => `POST https://hooks.slack.com/services/${v}`, `T${pick(UPPER32, 8)}/B${pick(UPPER32, 8)}/${pick(ALNUM, 24)}`);
  add('openai-api-key', (v) => `OPENAI_API_KEY=${v}`, `sk-proj-${pick(B64URL, 74)}T3BlbkFJ${pick(B64URL, 74)}`);
  add('openai-api-key', (v) => `key: ${v}`, `sk-${pick(ALNUM, 20)}T3BlbkFJ${pick(ALNUM, 20)}`);
  add('anthropic-api-key', (v) => `x-api-key: ${v}`, `sk-ant-api03-${pick(B64URL, 93)}AA`);
  add('anthropic-admin-api-key', (v) => `admin ${v}`, `sk-ant-admin01-${pick(B64URL, 93)}AA`);
  add('gcp-api-key', (v) => `?key=${v}&q=1`, `AIza${pick(B64URL, 35)}`);
  add('gcp-oauth-client-secret', (v) => `"client_secret":"${v}"`, `GOCSPX-${pick(B64URL, 28)}`);
  add('azure-ad-client-secret', (v) => `AZURE_CLIENT_SECRET="${v}"`, `${pick(ALNUM, 3)}8Q~${pick(ALNUM, 34)}`);
  add('twilio-api-key', (v) => `twilio ${v}`, `SK${pick(HEX, 32)}`);
  add('sendgrid-api-token', (v) => `SENDGRID=${v}`, `SG.${pick(B64URL, 22)}.${pick(B64URL, 43)}`);
  add('npm-access-token', (v) => `//registry.npmjs.org/:_authToken=${v}`, `npm_${pick(ALNUM, 36)}`);
  add('pypi-upload-token', (v) => `password = ${v}`, `pypi-AgEIcHlwaS5vcmc${pick(B64URL, 70)}`);
  add('shopify-access-token', (v) => `X-Shopify-Access-Token: ${v}`, `shpat_${pick(HEX, 32)}`);
  add('shopify-shared-secret', (v) => `secret ${v}`, `shpss_${pick(HEX, 32)}`);
  add('datadog-access-token', (v) => `DD_API_KEY=${v}`, pick(HEX, 32));
  add('huggingface-access-token', (v) => `HF_TOKEN=${v}`, `hf_${pick(ALNUM.slice(0, 52), 34)}`);
  add('1password-service-account-token', (v) => `OP_SERVICE_ACCOUNT_TOKEN=${v}`, `ops_eyJ${pick(B64, 300)}`);
  add('jwt', (v) => `{"id_token":"${v}"}`, jwt);
  add('private-key', (v) => `key:\n${v}\nrest`, pem);
  add('private-key', (v) => v, `-----BEGIN OPENSSH PRIVATE KEY-----\n${pick(B64, 70)}\n${pick(B64, 70)}\n-----END OPENSSH PRIVATE KEY-----`);
  add('private-key', (v) => v, `-----BEGIN EC PRIVATE KEY-----\n${pick(B64, 64)}\n-----END EC PRIVATE KEY-----`);
  add('private-key', (v) => v, `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pick(B64, 64)}\n=${pick(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----`);
  add('private-key', (v) => v, `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${pick(B64, 64)}\n${pick(B64, 12)}\n-----END ENCRYPTED PRIVATE KEY-----`);
  add('authorization-header', (v) => `> Authorization: Bearer ${v}`, pick(B64URL, 40));
  add('authorization-header', (v) => `-H 'Authorization: Basic ${v}'`, Buffer.from(`user:${pick(ALNUM, 16)}`).toString('base64'));
  add('password-in-url', (v) => `DATABASE_URL=postgres://app:${v}@db.internal:5432/app`, pick(ALNUM, 20));
  add('password-in-url', (v) => `cloning https://bot:${v}@git.example.com/repo.git`, pick(ALNUM, 16));
  add('generic-api-key', (v) => `export MY_SERVICE_API_KEY=${v}`, pick(ALNUM, 32));
  add('generic-api-key', (v) => `  client_secret: "${v}"`, pick(ALNUM, 40));
  add('generic-api-key', (v) => `{"refresh_token": "${v}"}`, pick(B64URL, 48));
  add('generic-password', (v) => `DB_PASSWORD=${v}`, `${pick(ALNUM, 12)}!`);
  add('generic-password', (v) => `  "password": "${v}",`, pick(ALNUM, 14));
  return s;
}

describe('secret-shape rules: coverage', () => {
  const set = builtinShapes();
  it.each(samples())('%s finds its secret in %j, and only the secret is masked', (id, text, secret) => {
    const out = redactShapes(text, set);
    expect(out.text).not.toContain(secret);
    expect(out.text).toContain(`[REDACTED:${id}]`);
    // Context stays readable: what was around the secret is still there.
    const [before, after] = text.split(secret) as [string, string];
    expect(out.text.startsWith(before)).toBe(true);
    expect(out.text.endsWith(after)).toBe(true);
  });

  it('finds every sample at every byte alignment (the prefilter samples every other offset)', () => {
    for (const [id, text, secret] of samples()) {
      for (let pad = 0; pad < 4; pad++) {
        expect(redactShapes(`${'#'.repeat(pad)} ${text}`, set).text, `${id} at +${pad}`).not.toContain(secret);
        expect(redactShapes(`${'\n'.repeat(pad)}${text}${' '.repeat(pad)}`, set).text, `${id} at +${pad}`).not.toContain(secret);
      }
    }
  });

  it('case-insensitive keywords match in any case, at any alignment', () => {
    const set2 = compileShapes([{ id: 'x', keywords: ['authorization'], ignoreCase: true, pattern: 'authorization' }]);
    for (const word of ['authorization', 'AUTHORIZATION', 'Authorization', 'aUtHoRiZaTiOn']) {
      for (let pad = 0; pad < 4; pad++) expect(findShapes(set2, Buffer.from(`${' '.repeat(pad)}${word} `)), `${word} +${pad}`).toHaveLength(1);
    }
  });

  it('2- and 3-byte keywords are found by the strided scan at both parities, up to the last byte', () => {
    // The scan samples a triple at every even offset: a short needle lies at the start of one (any third
    // byte) or at its end (any first byte), and a 2-byte needle at an even n-2 is in no sample at all.
    const set2 = compileShapes([
      { id: 'pair', keywords: ['ZQ'], before: 12, pattern: '[a-z]{8}ZQ' },
      { id: 'three', keywords: ['k9~'], pattern: 'k9~[0-9]{6}' },
      { id: 'folded', keywords: ['qv'], ignoreCase: true, before: 12, pattern: '[0-9]{8}qv' },
    ]);
    for (let pad = 0; pad < 6; pad++) {
      const head = '#'.repeat(pad);
      for (const [text, id] of [
        [`${head} abcdefghZQ`, 'pair'],
        [`${head} abcdefghZQ ${head}`, 'pair'],
        [`${head} k9~123456`, 'three'],
        [`${head}k9~123456 `, 'three'],
        [`${head} 12345678qv`, 'folded'],
        [`${head} 12345678QV`, 'folded'],
        [`${head} 12345678Qv `, 'folded'],
      ] as const) {
        expect(findShapes(set2, Buffer.from(text)).map((f) => f.ruleId), `${JSON.stringify(text)}`).toEqual([id]);
      }
      // Only the spellings a short folded keyword is searched in (lower, UPPER, Capitalized), as before.
      expect(findShapes(set2, Buffer.from(`${head} 12345678qV`))).toEqual([]);
      expect(findShapes(set2, Buffer.from(`${head} abcdefghZq`))).toEqual([]);
    }
  });

  it('a name may end its keyword with an s and up to two digits (the endsName gate), not more', () => {
    const secret = `${pick(ALNUM, 20)}Q7x`;
    for (const name of ['api_key', 'api_key2', 'api_key12', 'db_credentials', 'db_credentials1', 'auth12']) {
      expect(redactShapes(`${name}=${secret}\n`, set).text, name).not.toContain(secret);
    }
    // Past two digits the keyword is inside a longer word: no assignment rule reads it.
    expect(findShapes(set, Buffer.from(`api_key123=${secret}\n`)).map((f) => f.ruleId)).not.toContain('generic-api-key');
  });

  it('finds a secret after more keyword hits than the scan writes down in one round', () => {
    // The sample loop records its bitset hits and stops when its room is full (4,096 of them); the
    // scan must resume where it stopped. `ZQ` hits at every sample, so the token comes after ~8,000.
    const set2 = compileShapes([
      { id: 'pair', keywords: ['ZQ'], before: 12, pattern: '[a-z]{8}ZQ' },
      { id: 'three', keywords: ['k9~'], pattern: 'k9~[0-9]{6}' },
    ]);
    for (const pad of ['', '#']) {
      const text = `${pad}${'ZQ'.repeat(8_000)} k9~123456 ${'ZQ'.repeat(3_000)} abcdefghZQ`;
      expect(findShapes(set2, Buffer.from(text)).map((f) => f.ruleId), `pad ${JSON.stringify(pad)}`).toEqual(['three', 'pair']);
    }
  });

  it('findShapes returns sorted, non-overlapping spans of the secret parts', () => {
    const all = samples();
    const text = all.map(([, t]) => t).join('\n');
    const found = findShapes(set, Buffer.from(text));
    expect(found.length).toBeGreaterThan(all.length / 2);
    for (let i = 1; i < found.length; i++) expect(found[i]!.start).toBeGreaterThanOrEqual(found[i - 1]!.end);
    const buf = Buffer.from(text);
    for (const [, , secret] of all) {
      const at = buf.indexOf(secret);
      expect(found.some((f) => f.start <= at && f.end >= at + Buffer.byteLength(secret)), secret.slice(0, 12)).toBe(true);
    }
  });

  it('leaves what the value redactor already replaced alone, so its name survives', () => {
    for (const text of ['postgres://app:[REDACTED:DB_PASSWORD]@db:5432/x', 'Authorization: Bearer [REDACTED:API_TOKEN]', 'API_KEY=[REDACTED:API_KEY]', 'DB_PASSWORD="[REDACTED:DB_PASSWORD]"']) {
      expect(redactShapes(text).text).toBe(text);
    }
  });

  it('looksLikeSecret names the rule, for values on their own', () => {
    expect(looksLikeSecret(`ghp_${pick(ALNUM, 36)}`)).toBe('github-pat');
    expect(looksLikeSecret(`AKIA${pick(UPPER32, 16)}`)).toBe('aws-access-token');
    expect(looksLikeSecret(`sk_live_${pick(ALNUM, 24)}`)).toBe('stripe-access-token');
    expect(looksLikeSecret('/usr/local/bin:/usr/bin')).toBeUndefined();
    expect(looksLikeSecret('en_US.UTF-8')).toBeUndefined();
  });
});

/** Output that must pass byte-identical: what a build, a deploy and a debugging session print. */
function noise(): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const sha1 = pick(HEX, 40);
    const sha256 = pick(HEX, 64);
    const uuid = `${pick(HEX, 8)}-${pick(HEX, 4)}-4${pick(HEX, 3)}-a${pick(HEX, 3)}-${pick(HEX, 12)}`;
    lines.push(
      `      "integrity": "sha512-${pick(B64, 86)}==",`,
      `      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.${i}.0.tgz",`,
      `    "node_modules/@babel/core": { "version": "7.${i}.0", "integrity": "sha1-${pick(B64, 27)}=" },`,
      `commit ${sha1}`,
      `Author: Jane Doe <jane@example.com>`,
      `Merge: ${sha1.slice(0, 7)} ${pick(HEX, 7)}`,
      `\x1b[33mcommit ${sha1}\x1b[m\x1b[33m (\x1b[m\x1b[1;36mHEAD -> \x1b[m\x1b[1;32mmain\x1b[m\x1b[33m)\x1b[m`,
      `Digest: sha256:${sha256}`,
      `Status: Downloaded newer image for node@sha256:${sha256}`,
      `${pick(HEX, 12)}: Pull complete`,
      `request_id=${uuid} status=200`,
      `X-Request-Id: ${uuid}`,
      `{"id": "req_${pick(ALNUM, 14)}", "object": "charge", "idempotency_key": "${uuid}"}`,
      `{"id":"ch_${pick(ALNUM, 24)}","balance_transaction":"txn_${pick(ALNUM, 24)}"}`,
      `NAME                                READY   STATUS    RESTARTS   AGE`,
      `web-${pick(HEX, 10)}-${pick('bcdfghjklmnpqrstvwxz2456789', 5)}        1/1     Running   0          ${i}m`,
      `secret/db-credentials created`,
      `default-token-${pick('bcdfghjklmnpqrstvwxz2456789', 5)}   kubernetes.io/service-account-token   3      10d`,
      `    at Object.<anonymous> (/home/dev/app/src/server.js:${i}:17)`,
      `    at Module._compile (node:internal/modules/cjs/loader:1256:14)`,
      `TypeError: Cannot read properties of undefined (reading 'apiKey')`,
      `  max_tokens: 4096`,
      `  "tokenizer": "cl100k_base",`,
      `Authentication required. Run \`gh auth login\` first.`,
      `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${pick(B64, 43)} dev@laptop`,
      `-----BEGIN CERTIFICATE-----`,
      `${pick(B64, 64)}`,
      `-----END CERTIFICATE-----`,
      `base64: ${pick(B64, 120)}`,
      `git@github.com:acme/app.git`,
      `https://github.com/acme/app/commit/${sha1}`,
      `\x1b]8;;https://example.com/docs\x07docs\x1b]8;;\x07 \x1b[2K\r[${'#'.repeat(i % 20)}] ${i}%`,
    );
  }
  return lines.join('\n') + '\n';
}

describe('secret-shape rules: everyday output passes untouched', () => {
  it('npm lockfiles, git log, docker digests, UUIDs, request ids, k8s output, stack traces', () => {
    const text = noise();
    const found = findShapes(builtinShapes(), Buffer.from(text));
    const shown = found.map((f) => `${f.ruleId}: ${text.slice(Math.max(0, f.start - 30), f.end + 10)}`);
    expect(shown).toEqual([]);
    const s = new ShapeStream(builtinShapes());
    const out = Buffer.concat([s.push(Buffer.from(text)), s.end()]);
    expect(out.equals(Buffer.from(text))).toBe(true);
    expect(s.count).toBe(0);
  });
});

function streamAll(chunks: Buffer[]): { out: Buffer; count: number; maxPending: number } {
  const s = new ShapeStream(builtinShapes());
  const parts: Buffer[] = [];
  let maxPending = 0;
  for (const c of chunks) {
    parts.push(Buffer.from(s.push(c)));
    maxPending = Math.max(maxPending, s.pending);
  }
  parts.push(s.end());
  return { out: Buffer.concat(parts), count: s.count, maxPending };
}

describe('ShapeStream', () => {
  const curl = `curl -sS https://api.example.com/v1/items \\\n  -H 'Accept: application/json' \\\n  -u deploy:${pick(ALNUM, 18)}\n`;
  const text = Buffer.from(`${noise().slice(0, 3000)}\n${samples().map(([, t]) => t).join('\n')}\n${curl}${noise().slice(0, 2000)}`);
  const reference = redactShapes(text.toString('utf8'));

  it('the reference masks a password given to curl on a continued line', () => {
    expect(reference.text).toContain('-u deploy:[REDACTED:curl-auth-user]');
  });

  it('gives the same output as findShapes on the whole, for every 2-way split', () => {
    for (let cut = 0; cut <= text.length; cut += 7) {
      const { out, count } = streamAll([text.subarray(0, cut), text.subarray(cut)]);
      expect(out.toString('utf8'), `cut at ${cut}`).toBe(reference.text);
      expect(count).toBe(reference.count);
    }
  });

  it('gives the same output for random chunkings (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 60 }), (sizes) => {
        const chunks: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < text.length; i++) {
          const n = sizes[i % sizes.length]!;
          chunks.push(text.subarray(at, at + n));
          at += n;
        }
        expect(streamAll(chunks).out.toString('utf8')).toBe(reference.text);
      }),
      { numRuns: 60 },
    );
  });

  it('equals the whole-buffer result on keyword-dense random text, for random chunkings (property)', () => {
    // Keywords, half-tokens, separators, PEM lines and continuations jumbled together: the edges where a
    // line-based stream and a whole-buffer scan could disagree.
    const words = ['key', 'token', 'secret=', 'password: ', 'auth', 'Bearer ', 'Authorization: ', 'ghp_', 'AKIA', 'eyJhbGci', '://', 'u:p@h', '-----BEGIN RSA PRIVATE KEY-----\n', '-----END RSA PRIVATE KEY-----\n', '=', ':', '"', '\n', '\r\n', ' ', 'sk_live_', 'xoxb-', ' \\\n', 'curl -u a:b ', 'Q~', 'SK', '-us1'];
    const token = fc.oneof(fc.constantFrom(...words), fc.stringMatching(/^[A-Za-z0-9+/_-]{1,12}$/));
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 20 }), (parts, sizes) => {
        const buf = Buffer.from(parts.join(''));
        const whole = redactShapes(buf.toString('utf8')).text;
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < buf.length; i++) {
          chunks.push(buf.subarray(at, at + sizes[i % sizes.length]!));
          at += sizes[i % sizes.length]!;
        }
        expect(streamAll(chunks).out.toString('utf8')).toBe(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('works on PTY output (\\r\\n line ends)', () => {
    const crlf = Buffer.from(text.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    const ref = redactShapes(crlf.toString('utf8')).text;
    for (const v of samples().map(([, , v]) => v).filter((v) => !v.includes('\n'))) expect(ref).not.toContain(v);
    const chunks: Buffer[] = [];
    for (let at = 0; at < crlf.length; at += 97) chunks.push(crlf.subarray(at, at + 97));
    expect(streamAll(chunks).out.toString('utf8')).toBe(ref);
  });

  it('holds a PEM private key until its END line and masks the block whole, even byte by byte', () => {
    const key = `-----BEGIN PRIVATE KEY-----\n${Array.from({ length: 20 }, () => pick(B64, 64)).join('\n')}\n-----END PRIVATE KEY-----`;
    const input = Buffer.from(`before\n${key}\nafter\n`);
    const chunks = [...input].map((b) => Buffer.of(b));
    const { out, count } = streamAll(chunks);
    expect(out.toString()).toBe('before\n[REDACTED:private-key]\nafter\n');
    expect(count).toBe(1);
  });

  it('masks an unterminated PEM block at the end, and a block too long to hold without keeping it', () => {
    const body = Array.from({ length: 5 }, () => pick(B64, 64)).join('\n');
    const cut = streamAll([Buffer.from(`x\n-----BEGIN RSA PRIVATE KEY-----\n${body}\n`)]);
    expect(cut.out.toString()).toBe('x\n[REDACTED:private-key]');
    const huge = Array.from({ length: 2000 }, () => pick(B64, 64)).join('\n');
    const input = Buffer.from(`a\n-----BEGIN RSA PRIVATE KEY-----\n${huge}\n-----END RSA PRIVATE KEY-----\nb\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; at += 4096) chunks.push(input.subarray(at, at + 4096));
    const { out, maxPending } = streamAll(chunks);
    expect(out.toString()).toBe('a\n[REDACTED:private-key]\nb\n');
    expect(maxPending).toBeLessThanOrEqual(70 * 1024);
  });

  it('bounds holdback on a line that never ends', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < 200; i++) chunks.push(Buffer.from(`${pick(ALNUM, 500)} `));
    const { out, maxPending } = streamAll(chunks);
    expect(out.equals(Buffer.concat(chunks))).toBe(true);
    expect(maxPending).toBeLessThanOrEqual(MAX_LINE + 600);
  });

  it('on a pause releases a prompt, but not a token prefix, and masks the rest of a cut token', () => {
    const s = new ShapeStream(builtinShapes());
    expect(s.push(Buffer.from('Enter passphrase: ')).toString()).toBe('');
    expect(s.idle().toString()).toBe('Enter passphrase: ');
    const token = `ghp_${pick(ALNUM, 36)}`;
    expect(s.push(Buffer.from(`token is ${token.slice(0, 14)}`)).toString()).toBe('');
    const released = s.idle().toString();
    expect(released).toBe('token is [REDACTED:github-pat]');
    // The rest of the token, after the pause, is dropped up to the next separator.
    const rest = s.push(Buffer.from(`${token.slice(14)} done\n`)).toString() + s.end().toString();
    expect(rest).toBe(' done\n');
    expect(released + rest).not.toContain(token.slice(4, 14));
    expect(s.count).toBe(1);
  });

  it('on a pause, a keyword cut off inside a word is no token start: a hex id ending in "be" comes out as is', () => {
    // Found by CI: a random value ending in `be` (a prefix of `bedrock-api-key-`) was masked at a pause.
    const s = new ShapeStream(builtinShapes());
    s.push(Buffer.from('start acme_39a2b92e69070be'));
    expect(s.idle().toString()).toBe('start acme_39a2b92e69070be');
    // At a word start the same cut keyword is still held fail-closed.
    const t = new ShapeStream(builtinShapes());
    t.push(Buffer.from('key: 0123456789 bedrock-api'));
    expect(t.idle().toString()).toBe('key: 0123456789 [REDACTED:aws-amazon-bedrock-api-key-short-lived]');
  });

  it('on a pause masks a complete secret and the continuation of it', () => {
    const s = new ShapeStream(builtinShapes());
    const key = `AKIA${pick(UPPER32, 16)}`;
    s.push(Buffer.from(`id=${key}`));
    expect(s.idle().toString()).toBe('id=[REDACTED:aws-access-token]');
    expect(s.push(Buffer.from('XYZ\n')).toString()).toBe('\n');
  });
});

describe('rule set', () => {
  it('rules.generated.ts is rules.yaml, compiled (run `npm run build` after editing rules.yaml)', () => {
    const yamlPath = fileURLToPath(new URL('../../src/redact/shapes/rules.yaml', import.meta.url));
    expect(builtinRuleData()).toEqual(parse(readFileSync(yamlPath, 'utf8')));
  });

  it('the embedded keyword index is the one compileShapes builds from the rules, and finds the same', () => {
    expect(exportIndex(compileShapes(builtinRuleData()))).toEqual(builtinIndexData());
    const text = Buffer.from(samples().map(([, t]) => t).join('\n'));
    expect(findShapes(builtinShapes(), text)).toEqual(findShapes(compileShapes(builtinShapeRules()), text));
  });

  it('the index loaded from the embedded tables is, table for table, the one built from the keywords', () => {
    const loaded = builtinShapes().index;
    const built = compileShapes(builtinShapeRules()).index;
    for (const k of ['triples', 'tripleBits', 'hitStart', 'hitTriple', 'hitOffset', 'hitEntry', 'short', 'pairs'] as const) expect(loaded[k], k).toEqual(built[k]);
    expect(loaded.hitTriple.length).toBeGreaterThan(3000);
  });

  it('every packaged rule is valid, and ids are unique', () => {
    for (const r of builtinShapeRules()) expect(ruleProblem(r), r.id).toBeUndefined();
    const ids = builtinShapeRules().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(() => compileShapes(builtinShapeRules())).not.toThrow();
  });

  it('rejects bad user rules with a reason', () => {
    expect(ruleProblem({ id: 'x', keywords: ['abc'], pattern: '(' })).toMatch(/not a valid regular expression/);
    expect(ruleProblem({ id: 'x', keywords: ['abc'], pattern: 'a*' })).toMatch(/empty string/);
    expect(ruleProblem({ id: 'x', keywords: ['a'], pattern: 'abc' })).toMatch(/shorter than 2 bytes/);
    expect(ruleProblem({ id: 'Bad Id', keywords: ['abc'], pattern: 'abc' })).toMatch(/lowercase/);
  });

  it('config rules extend the set, and disable removes packaged ones', () => {
    const set = shapesFor({ rules: [{ id: 'acme-token', keywords: ['acme_'], pattern: '\\bacme_[a-z0-9]{20}\\b' }], disable: ['jwt'] });
    const tok = `acme_${pick('abcdefghijklmnopqrstuvwxyz0123456789', 20)}`;
    expect(redactShapes(`x ${tok} y`, set).text).toBe('x [REDACTED:acme-token] y');
    const jwt = `${b64url('{"alg":"none"}')}.${b64url('{"sub":"12345678901234567890"}')}.${pick(B64URL, 20)}`;
    expect(redactShapes(jwt, set).count).toBe(0);
    expect(redactShapes(jwt).count).toBe(1);
  });
});
