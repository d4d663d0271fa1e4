import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/index.js';
import { parseRow } from '../../src/redact/dumps.js';
import { runStream } from './helpers.js';

/**
 * Issue 16 item 7: a value in `hexdump -C` and `xxd` output, where it is cut into 16-byte rows with
 * offsets and an ASCII column between its pieces. Produced by the real tools.
 */
const KEY = 'sk_live_9fQ2xLr7TzA1bC3dE5gH7jK9';
const r = new Redactor([{ name: 'KEY', value: KEY }]);
const dump = (tool: string, args: string[], input: string) => {
  const res = spawnSync(tool, args, { input });
  if (res.status !== 0) throw new Error(`${tool} failed`);
  return res.stdout.toString('latin1');
};
/** Every 6-byte piece of the value: none may be left in the bytes a dump row shows (hex or ASCII). */
function visible(out: string): string[] {
  const bytes = Buffer.concat(out.split('\n').map((l) => parseRow(Buffer.from(l, 'latin1'))?.bytes ?? Buffer.alloc(0))).toString('latin1');
  const pieces: string[] = [];
  for (let i = 0; i + 6 <= KEY.length; i++) if (bytes.includes(KEY.slice(i, i + 6)) || out.includes(KEY.slice(i, i + 6))) pieces.push(KEY.slice(i, i + 6));
  return pieces;
}

describe('hex dumps', () => {
  const input = `config v1\nuser=deploy\ntoken=${KEY}\nregion=eu-west-1\n`;
  for (const [tool, args] of [['hexdump', ['-C']], ['xxd', []], ['xxd', ['-g1']], ['xxd', ['-c', '8']]] as const) {
    for (const shift of [0, 3, 7]) {
      it(`${tool} ${args.join(' ')}, value at offset +${shift}: every row holding part of it is masked, for any split`, () => {
        const text = `$ ${tool} ${args.join(' ')} config\n${dump(tool, [...args], `${'#'.repeat(shift)}${input}`)}$ echo done\n`;
        const whole = r.redactBuffer(Buffer.from(text, 'latin1'));
        const out = whole.output.toString('latin1');
        expect(visible(out)).toEqual([]);
        expect(out).toMatch(/^[0-9a-f]{8}[: ] ?\s?\[REDACTED:KEY\]$/m);
        expect(whole.count).toBe(1);
        // Rows without the value, and the lines around the dump, are untouched.
        expect(out.startsWith(`$ ${tool}`)).toBe(true);
        expect(out.endsWith('$ echo done\n')).toBe(true);
        const buf = Buffer.from(text, 'latin1');
        for (let k = 0; k <= buf.length; k += 7) expect(runStream(r, [buf.subarray(0, k), buf.subarray(k)]).output.equals(whole.output)).toBe(true);
      });
    }
  }

  it('ordinary text that looks a little like a row passes untouched', () => {
    const text = 'deadbeef  is a hex word\n00000010: not hex here\n2026-12-02  10:00  ok\ncafe0  x\n';
    expect(r.redactString(text)).toBe(text);
  });
});
