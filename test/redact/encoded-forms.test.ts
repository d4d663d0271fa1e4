import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { renderLine } from '../../src/redact/rewrites.js';
import { builtinShapes } from '../../src/redact/shapes/index.js';
import { runStream, chunk } from './helpers.js';

/**
 * Issue 16 item 7: encoded forms seen in real logs, each produced the way the tool that prints it
 * produces it (real bash, python3, base64, xxd where they are the source), and masked whole.
 */
const VALUE = "s3cr~t p@ss!(x)*'é_Zq9";
const KEY = 'sk_live_9fQ2xLr7TzA1bC3dE5gH7jK9';
const r = new Redactor([{ name: 'PASS', value: VALUE }, { name: 'KEY', value: KEY }]);

function masked(text: string | Buffer, label = 'PASS'): string {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const whole = r.redactBuffer(buf).output;
  // Streaming in small pieces gives the same bytes.
  expect(runStream(r, chunk(buf, [1, 5, 9, 23, 40, 77])).output.equals(whole)).toBe(true);
  expect(whole.toString('latin1')).toContain(`[REDACTED:${label}]`);
  return whole.toString('latin1');
}

const tool = (cmd: string, args: string[], input: string | Buffer = '', env: NodeJS.ProcessEnv = {}) => {
  const res = spawnSync(cmd, args, { input, env: { PATH: process.env.PATH, ...env } });
  if (res.status !== 0) throw new Error(`${cmd} failed: ${res.stderr}`);
  return res.stdout;
};

describe('encoded forms of a value', () => {
  it('application/x-www-form-urlencoded: URLSearchParams, Python quote_plus and urlencode, upper- and lower-case %XX', () => {
    const forms = [
      new URLSearchParams({ p: VALUE }).toString(),
      tool('python3', ['-c', 'import sys,urllib.parse;print(urllib.parse.urlencode({"p":sys.argv[1]}))', VALUE]).toString().trim(),
      tool('python3', ['-c', 'import sys,urllib.parse;print(urllib.parse.quote_plus(sys.argv[1]))', VALUE]).toString().trim(),
      tool('python3', ['-c', 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1], safe=""))', VALUE]).toString().trim(),
    ];
    for (const f of forms) {
      const out = masked(`POST /login body=${f}&next=/`);
      expect(out).not.toContain(f.replace(/^p=/, ''));
      masked(`body=${f.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`);
    }
  });

  it('UTF-16LE and UTF-16BE (iconv), and PowerShell -EncodedCommand base64', () => {
    const le = tool('iconv', ['-f', 'UTF-8', '-t', 'UTF-16LE'], KEY);
    const be = tool('iconv', ['-f', 'UTF-8', '-t', 'UTF-16BE'], KEY);
    for (const f of [le, be]) expect(masked(Buffer.concat([Buffer.from('dump: '), f, Buffer.from('\n')]), 'KEY')).not.toContain(f.toString('latin1'));
    masked(`powershell -EncodedCommand ${le.toString('base64')}`, 'KEY');
  });

  it('Unicode NFD (and NFC of an NFD value)', () => {
    const nfd = VALUE.normalize('NFD');
    expect(nfd).not.toBe(VALUE);
    expect(masked(`file: ${nfd}\n`)).not.toContain(nfd);
    const r2 = new Redactor([{ name: 'N', value: 'cafe\u0301-secret-99' }]);
    expect(r2.redactString(`x ${'cafe\u0301-secret-99'.normalize('NFC')} y`)).toBe('x [REDACTED:N] y');
  });

  it('the whole value in another case', () => {
    expect(masked(`ID=${KEY.toUpperCase()}`, 'KEY')).toBe('ID=[REDACTED:KEY]');
    expect(masked(`id=${KEY.toLowerCase()}`, 'KEY')).toBe('id=[REDACTED:KEY]');
  });

  it("bash printf %q, in a UTF-8 and in the C locale ($'...' with octal bytes)", () => {
    for (const loc of ['C.UTF-8', 'C']) {
      const q = tool('bash', ['-c', 'printf "+ curl -u admin:%q\\n" "$1"', '_', VALUE], '', { LC_ALL: loc });
      expect(masked(q)).toBe(loc === 'C' ? "+ curl -u admin:$'[REDACTED:PASS]'\n" : '+ curl -u admin:[REDACTED:PASS]\n');
    }
    const tilde = new Redactor([{ name: 'T', value: 'key=~abc:~def9' }]);
    const q = tool('bash', ['-c', 'printf "%q" "$1"', '_', 'key=~abc:~def9']).toString();
    expect(q).toBe('key=\\~abc:\\~def9');
    expect(tilde.redactString(q)).toBe('[REDACTED:T]');
  });

  it('xxd -p plain hex (wrapped at 60 columns) is masked across its line breaks', () => {
    const long = `${KEY}${KEY}`;
    const r2 = new Redactor([{ name: 'L', value: long }]);
    const hex = tool('xxd', ['-p'], long).toString();
    expect(hex.split('\n').length).toBeGreaterThan(2);
    expect(r2.redactString(hex)).toBe('[REDACTED:L]\n');
  });

  it('base64 of base64: base64 | base64, and a docker auth inside a Kubernetes Secret', () => {
    const twice = tool('sh', ['-c', 'printf %s "$1" | base64 | base64 -w0', '_', KEY]).toString();
    expect(masked(`data: ${twice}\n`, 'KEY')).not.toContain(twice.slice(8, 40));
    const docker = JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from(`bot:${KEY}`).toString('base64') } } });
    for (const pad of ['', 'x', 'xy']) {
      const secret = Buffer.from(pad + docker).toString('base64');
      const out = masked(`  .dockerconfigjson: ${secret}\n`, 'KEY');
      // What is left in clear around the mask decodes to no more than the JSON around the value.
      expect(Buffer.from(out.replace(/.*: |\[REDACTED:KEY\].*\n/g, ''), 'base64').toString('latin1')).not.toContain(KEY.slice(0, 8));
    }
  });

  it('JSON with every character as \\uXXXX, lower- and upper-case hex', () => {
    const every = [...VALUE].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    expect(masked(`{"password":"${every}"}`)).toBe('{"password":"[REDACTED:PASS]"}');
    expect(masked(`{"password":"${every.toUpperCase().replaceAll('\\U', '\\u')}"}`)).toBe('{"password":"[REDACTED:PASS]"}');
  });

  describe('a value revealed through backspace or \\r rewrites', () => {
    const cases: [string, string][] = [
      ['retyped after backspaces', `token: ${KEY.slice(0, 8)}XXXX${'\b'.repeat(4)}${KEY.slice(8)}\n`],
      ['a spinner drawn between the characters', `token: ${[...KEY].map((c) => `${c}|\b`).join('')}\n`],
      ['the start written over the line after \r', `token: ${'X'.repeat(8)}${KEY.slice(8)}\rtoken: ${KEY.slice(0, 8)}\n`],
      ['erase-in-line and a redraw', `\x1b[2K\rtoken: ${KEY.slice(0, 12)}\x1b[32m\x1b[0m\rtoken: ${KEY.slice(0, 12)}${KEY.slice(12)}-\b \n`],
    ];
    it.each(cases)('%s: masked on screen and in the bytes, for every 2-way split', (_what, text) => {
      const buf = Buffer.from(text);
      const whole = r.redactBuffer(buf).output;
      for (let k = 0; k <= buf.length; k++) expect(runStream(r, [buf.subarray(0, k), buf.subarray(k)]).output.equals(whole)).toBe(true);
      for (const line of whole.toString('latin1').split('\n')) expect(renderLine(Buffer.from(line, 'latin1')).toString()).not.toContain(KEY);
      // What the spinner or the redraw leaves after the value (a `|`, a space) stays on the line.
      expect(renderLine(Buffer.from(whole.toString().split('\n')[0]!)).toString()).toMatch(/^token: \[REDACTED:KEY\][| ]?$/);
    });
    it('a progress line that reveals nothing passes byte-identical; a pause releases what is held', () => {
      const text = `[#   ] 10%\r[##  ] 50%\r[####] 100%\n`;
      expect(r.redactString(text)).toBe(text);
      const s = r.stream();
      const first = Buffer.concat([s.push(Buffer.from(`token: ${KEY.slice(0, 10)}XX\b\b`)), s.idle()]).toString();
      expect(first).toBe(`token: ${KEY.slice(0, 10)}XX\b\b`);
      const rest = Buffer.concat([s.push(Buffer.from(`${KEY.slice(10)}\n`)), s.end()]).toString();
      expect(renderLine(Buffer.from((first + rest).split('\n')[0]!)).toString()).toBe('token: [REDACTED:KEY]');
    });
  });

  it('no false positive on everyday CI noise, with 100 values and the shape rules', () => {
    const rand = (n: number, abc: string) => Array.from({ length: n }, (_, i) => abc[(i * 7919 + n * 31 + ((i * i) % 13)) % abc.length]).join('');
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const HEX = '0123456789abcdef';
    const values = Array.from({ length: 100 }, (_, i) => ({ name: `V${i}`, value: i % 2 ? `sk_live_${Buffer.from(String(i * 7_777_777)).toString('base64url')}Zz${i}` : `Pw-${i}-${Buffer.from(`v${i}`).toString('hex')}~ok!` }));
    const noisy = new Redactor(values, { shapes: builtinShapes() });
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      const uuid = `${rand(8, HEX)}-${rand(4, HEX)}-4${rand(3, HEX)}-a${rand(3, HEX)}-${rand(12, HEX)}`;
      lines.push(
        `      "integrity": "sha512-${Buffer.from(`pkg-${i}`).toString('base64').padEnd(86, 'Q')}==",`,
        `commit ${Buffer.from(`c${i}`).toString('hex').padEnd(40, 'a')}`,
        `request_id=${uuid}`,
        `<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk${rand(40, B64)}==">`,
        `\x1b[32m✓\x1b[0m test ${i} passed (${i % 90} ms)\r`,
        `GET /v1/items?cursor=${encodeURIComponent(rand(20, B64))} 200`,
      );
    }
    const text = lines.join('\n') + '\n';
    const out = noisy.redactBuffer(Buffer.from(text));
    expect(out.count).toBe(0);
    expect(out.output.toString()).toBe(text);
  });
});
