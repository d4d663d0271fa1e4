import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, type SecretValue } from '../../src/redact/index.js';
import { runStream, chunk } from './helpers.js';

/**
 * Every way a planted value is known to leak through CI maskers (field notes: encodings, terminal noise,
 * writes split anywhere). Each case runs whole, with every 2-way split, byte by byte and with random
 * chunkings, in pipe (\n) and PTY (\r\n) form; the streamed output must equal the whole-buffer output,
 * the planted forms must be absent from what a reader sees, and the surrounding text and escapes kept.
 */

const STRIPE: SecretValue = { name: 'STRIPE_KEY', value: 'sk_live_51Habc123XYZsecretQ9' };
const SPECIAL: SecretValue = { name: 'DB_PASSWORD', value: `Tr0ub4dor&3 "horse" <battery>/staple'é+%` };
const PEM: SecretValue = {
  name: 'TLS_KEY',
  value:
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n' +
    'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----',
};
const UNI: SecretValue = { name: 'UNI', value: 'clé-ключ-🔑-secret-42' };

/** Text a reader sees: escape sequences removed (CSI, OSC/string sequences, two-byte escapes). */
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-~])/g;
const visible = (b: Buffer): string => b.toString('utf8').replace(ANSI, '');

const b64 = (s: string | Buffer, url = false): string => {
  const e = Buffer.from(s).toString('base64');
  return url ? e.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : e;
};
/** The characters of base64(prefix + value + suffix) that encode value bytes only, computed by position. */
function b64Core(prefix: string, value: string, suffix: string, url = false): string {
  const enc = b64(prefix + value + suffix, url);
  const a = Buffer.byteLength(prefix);
  const n = Buffer.byteLength(value);
  return enc.slice(Math.ceil((a * 4) / 3) + 1, Math.floor(((a + n) * 4) / 3) - 1);
}
const wrap = (s: string, cols: number): string => s.match(new RegExp(`.{1,${cols}}`, 'g'))!.join('\n');
const bash = (script: string, value: string): string => execFileSync('bash', ['-c', script, 'bash', value], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const setX = (value: string): string => spawnSync('bash', ['-xc', ': "$1"', 'bash', value], { encoding: 'utf8' }).stderr;
const xml = (s: string, apos: string, quot: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, quot).replace(/'/g, apos);
const asciiJson = (s: string): string =>
  JSON.stringify(s).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const userinfo = (v: string): string => {
  const u = new URL('https://db.example.com/app');
  u.username = 'admin';
  u.password = v;
  return u.href;
};
const pemLines = PEM.value.split('\n');
const S = STRIPE.value;
const ESC = '\x1b';

interface LeakCase {
  name: string;
  secrets: SecretValue[];
  text: string;
  /** Must not appear in the visible output (nor in the raw bytes). */
  planted: string[];
  /** Must appear in the raw output unchanged. */
  keep: string[];
  /** Compare the visible output with wrap breaks removed (base64 wrapped across lines). */
  unwrap?: boolean;
}

const cases: LeakCase[] = [
  { name: 'raw value', secrets: [STRIPE], text: `export KEY=${S}\nok\n`, planted: [S], keep: ['export KEY=', '\nok'] },
  ...[0, 1, 2].map((a) => ({
    name: `base64 std at alignment ${a}`,
    secrets: [STRIPE],
    text: `data: ${b64('xyz'.slice(0, a) + S + '..tail')}\n`,
    planted: [b64Core('xyz'.slice(0, a), S, '..tail')],
    keep: ['data: '],
  })),
  ...[0, 1, 2].map((a) => ({
    name: `base64url unpadded at alignment ${a}`,
    secrets: [SPECIAL],
    text: `jwt.${b64('ab'.slice(0, a) + SPECIAL.value, true)}.sig\n`,
    planted: [b64Core('ab'.slice(0, a), SPECIAL.value, '', true)],
    keep: ['jwt.', '.sig'],
  })),
  {
    name: 'Basic auth (user:SECRET) and docker config auth',
    secrets: [STRIPE],
    text: `Authorization: Basic ${b64(`user:${S}`)}\n{"auths":{"r.io":{"auth":"${b64(`robot$ci:${S}`)}"}}}\n`,
    planted: [b64Core('user:', S, ''), b64Core('robot$ci:', S, '')],
    keep: ['Authorization: Basic ', '{"auths":{"r.io":{"auth":"'],
  },
  ...[76, 64].map((cols) => {
    const prefix = 'P'.repeat(50) + 'é'.repeat(3);
    return {
      name: `base64 wrapped at ${cols} columns, value across a wrap`,
      secrets: [SPECIAL],
      text: `$ base64 config.json\n${wrap(b64(prefix + SPECIAL.value + 'Q'.repeat(40)), cols)}\n$ done\n`,
      planted: [b64Core(prefix, SPECIAL.value, 'Q'.repeat(40))],
      keep: ['$ base64 config.json\n', '$ done'],
      unwrap: true,
    };
  }),
  {
    name: 'hex lower and upper',
    secrets: [STRIPE],
    text: `sum ${Buffer.from(S).toString('hex')} / ${Buffer.from(S).toString('hex').toUpperCase()}\n`,
    planted: [Buffer.from(S).toString('hex'), Buffer.from(S).toString('hex').toUpperCase()],
    keep: ['sum ', ' / '],
  },
  {
    name: 'percent-encoding upper, lower, form (+ for space)',
    secrets: [SPECIAL],
    text:
      `GET /login?pw=${encodeURIComponent(SPECIAL.value)}&x=1\n` +
      `GET /login?pw=${encodeURIComponent(SPECIAL.value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}\n` +
      `body: pw=${encodeURIComponent(SPECIAL.value).replace(/%20/g, '+')}&next=%2F\n`,
    planted: [SPECIAL.value.slice(0, 11), 'horse', 'battery', 'staple'],
    keep: ['GET /login?pw=', '&x=1', 'body: pw=', '&next=%2F'],
  },
  {
    name: 'URL userinfo',
    secrets: [SPECIAL],
    text: `connecting to ${userinfo(SPECIAL.value)}\n`,
    planted: ['horse', 'battery', 'staple'],
    keep: ['connecting to https://admin:', '@db.example.com/app'],
  },
  {
    name: 'JSON escaping: plain, \\/, \\uXXXX (ensure_ascii), Go <>&',
    secrets: [SPECIAL],
    text:
      `${JSON.stringify({ password: SPECIAL.value })}\n` +
      `{"password":"${JSON.stringify(SPECIAL.value).slice(1, -1).replace(/\//g, '\\/')}"}\n` +
      `{"password": "${asciiJson(SPECIAL.value)}"}\n` +
      `{"password":"${asciiJson(SPECIAL.value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')}"}\n`,
    planted: ['horse', 'battery', 'staple'],
    keep: ['{"password":"', '"}\n', '{"password": "'],
  },
  {
    name: 'XML/HTML escaping with each quote spelling',
    secrets: [SPECIAL],
    text: ['&#39;', '&apos;', '&#x27;'].map((apos) => `<v a="${xml(SPECIAL.value, apos, '&quot;')}"/>\n`).join('') + `<t>${xml(SPECIAL.value, "'", '"')}</t>\n`,
    planted: ['horse', 'battery', 'staple'],
    keep: ['<v a="', '"/>', '<t>', '</t>'],
  },
  {
    name: 'shell quoting as bash set -x and printf %q print it (real bash)',
    secrets: [SPECIAL],
    text: `${setX(SPECIAL.value)}${bash('printf "%q\\n" "$1"', SPECIAL.value)}`,
    planted: ['horse', 'battery', 'staple'],
    keep: ['+ : ', '\n'],
  },
  {
    name: 'multiline value: whole, lines alone, joined with spaces, printf %q',
    secrets: [PEM],
    text: `key:\n${PEM.value}\n-- then\n${pemLines.map((l) => `> ${l}`).join('\n')}\n${pemLines.join(' ')}\n${bash('printf "%q\\n" "$1"', PEM.value)}`,
    planted: [pemLines[1]!, pemLines[2]!, pemLines[1]!.slice(10, 40)],
    keep: ['key:\n', '-- then\n', '> '],
  },
  {
    name: 'nested secrets (one a prefix of the other)',
    secrets: [{ name: 'SHORT', value: 'abcdefgh12' }, { name: 'LONG', value: 'abcdefgh12345678' }],
    text: `a=abcdefgh12345678 b=abcdefgh12 c=abcdefgh1234\n`,
    planted: ['abcdefgh12'],
    keep: ['a=', ' b=', ' c='],
  },
  {
    name: 'self-overlapping value',
    secrets: [{ name: 'PW', value: 'p4ssp4ssword' }],
    text: `xxp4ssp4ssp4ssword p4ssp4ssword\n`,
    planted: ['p4ssp4ssword'],
    keep: ['xxp4ss'],
  },
  { name: 'UTF-8 value (splits fall mid-codepoint)', secrets: [UNI], text: `→ ${UNI.value} ←\n`, planted: [UNI.value, 'ключ-🔑'], keep: ['→ ', ' ←'] },
  {
    name: 'SGR colours inside the value',
    secrets: [STRIPE],
    text: `${ESC}[32mkey${ESC}[0m ${S.slice(0, 8)}${ESC}[1;31m${S.slice(8, 15)}${ESC}[0m${S.slice(15)} end\n`,
    planted: [S, S.slice(8)],
    keep: [`${ESC}[32mkey${ESC}[0m `, `${ESC}[1;31m`, `${ESC}[0m end`],
  },
  {
    name: 'erase-line and cursor moves inside and around the value',
    secrets: [STRIPE],
    text: `${ESC}[2K\r${S.slice(0, 10)}${ESC}[2C${ESC}[K${S.slice(10)}${ESC}[K\n${ESC}[1A${ESC}[2K\n`,
    planted: [S],
    keep: [`${ESC}[2K\r`, `${ESC}[2C`, `${ESC}[1A`],
  },
  {
    name: 'OSC 8 hyperlink (ST and BEL) around and inside the value',
    secrets: [STRIPE],
    text:
      `${ESC}]8;;https://dashboard.example.com${ESC}\\${S}${ESC}]8;;${ESC}\\\n` +
      `${S.slice(0, 12)}${ESC}]8;;https://x.example/${'a'.repeat(10)}\x07${S.slice(12)}${ESC}]8;;\x07\n`,
    planted: [S],
    keep: [`${ESC}]8;;https://dashboard.example.com${ESC}\\`, `${ESC}]8;;https://x.example/aaaaaaaaaa\x07`, `${ESC}]8;;\x07`],
  },
  {
    name: 'value inside an OSC 8 hyperlink URL',
    secrets: [STRIPE],
    text: `${ESC}]8;;https://api.example.com/?key=${S}\x07open${ESC}]8;;\x07 and ${ESC}]8;;https://x/${encodeURIComponent(S)}${ESC}\\y${ESC}]8;;${ESC}\\\n`,
    planted: [S],
    keep: [`${ESC}]8;;https://api.example.com/?key=`, `\x07open${ESC}]8;;\x07 and `],
  },
  {
    name: 'value followed by \\r overwrites (progress line)',
    secrets: [STRIPE],
    text: `uploading ${S} 10%\r${ESC}[Kuploading ${S} 90%\rdone\n`,
    planted: [S],
    keep: ['uploading ', ' 10%\r', `${ESC}[K`, ' 90%\rdone'],
  },
  {
    name: 'growing prefixes rewritten with \\r (typing effect)',
    secrets: [STRIPE],
    text: `key: ${S.slice(0, 4)}\rkey: ${S.slice(0, 11)}\rkey: ${S.slice(0, 20)}\rkey: ${S}\n`,
    planted: [S.slice(0, 11), S.slice(0, 20), S],
    keep: ['key: '],
  },
];

type Mode = 'pipe' | 'pty';
const forMode = (s: string, mode: Mode): string => (mode === 'pty' ? s.replace(/\r?\n/g, '\r\n') : s);


function assertSafe(out: Buffer, c: LeakCase, mode: Mode): void {
  const seen = visible(out);
  const seenUnwrapped = c.unwrap ? seen.replace(/\r?\n/g, '') : seen;
  const raw = out.toString('utf8');
  for (const p of c.planted) {
    for (const form of new Set([p, forMode(p, mode)])) {
      expect(seenUnwrapped, `planted ${JSON.stringify(form)} visible`).not.toContain(form);
      expect(raw, `planted ${JSON.stringify(form)} in raw bytes`).not.toContain(form);
    }
  }
  for (const k of c.keep) expect(raw, `kept ${JSON.stringify(k)}`).toContain(forMode(k, mode));
  for (const s of c.secrets) expect(raw).not.toContain(s.value);
}

describe.each(['pipe', 'pty'] as const)('leak cases (%s output)', (mode) => {
  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = new Redactor(c.secrets);
    const input = Buffer.from(forMode(c.text, mode), 'utf8');
    const whole = r.redactBuffer(input);

    it('is masked whole, with the surrounding text and escapes kept', () => {
      expect(whole.count).toBeGreaterThan(0);
      assertSafe(whole.output, c, mode);
      expect(whole.output.toString()).toContain('[REDACTED:');
    });

    it('streams to the same output under every 2-way split and byte by byte', () => {
      const want = whole.output.toString('hex');
      for (let i = 0; i <= input.length; i++) {
        const got = runStream(r, [input.subarray(0, i), input.subarray(i)]);
        expect(got.output.toString('hex'), `split at ${i}`).toBe(want);
        expect(got.count).toBe(whole.count);
      }
      const bytes = runStream(r, [...input].map((b) => Buffer.from([b])));
      expect(bytes.output.toString('hex')).toBe(want);
    });

    it('streams to the same output under random chunkings', () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          const got = runStream(r, chunk(input, cuts));
          expect(got.output.toString('hex')).toBe(whole.output.toString('hex'));
          assertSafe(got.output, c, mode);
        }),
        { numRuns: 60 },
      );
    });
  });
});
