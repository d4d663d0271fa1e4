import { describe, expect, it } from 'vitest';
import { DotenvError, parseDotenv } from '../../src/secrets/dotenv.js';

const values = (text: string) => Object.fromEntries(parseDotenv(text).entries.map((e) => [e.name, e.value]));

function errorOf(text: string): DotenvError {
  try {
    parseDotenv(text);
  } catch (err) {
    if (err instanceof DotenvError) return err;
    throw err;
  }
  throw new Error('parsed without error');
}

describe('parseDotenv', () => {
  it('reads KEY=value, export, blanks and comment lines, with line numbers', () => {
    const r = parseDotenv('# head\n\nA=1\n  export B=two\n\t# indented comment\nC = three  \n');
    expect(r.entries).toEqual([
      { name: 'A', value: '1', line: 3 },
      { name: 'B', value: 'two', line: 4 },
      { name: 'C', value: 'three', line: 6 },
    ]);
    expect(r.duplicates).toEqual([]);
  });

  it('starts an inline comment only at a # after whitespace, so a # inside a value stays', () => {
    expect(values('A=pa#ss\nB=val # note\nC=#not-a-comment\nD= # only a comment\nE=x\t#tab comment\n')).toEqual({
      A: 'pa#ss',
      B: 'val',
      C: '#not-a-comment',
      D: '',
      E: 'x',
    });
  });

  it('keeps unquoted backslashes, inner quotes and dollars literal', () => {
    expect(values(`A=a\\nb\nB=it's "x"\nC=$HOME/\${X}\n`)).toEqual({ A: 'a\\nb', B: `it's "x"`, C: '$HOME/${X}' });
  });

  it('single quotes and backticks are literal, comments after them are allowed', () => {
    expect(values(`A='a\\nb # not comment' # real comment\nB=\`x\\ty\`\nC=''\n`)).toEqual({ A: 'a\\nb # not comment', B: 'x\\ty', C: '' });
  });

  it('double quotes understand \\n \\r \\t \\" \\\\ \\$ and keep other backslashes', () => {
    expect(values('A="l1\\nl2\\r\\tq\\"b\\\\s\\$x\\q"\n')).toEqual({ A: 'l1\nl2\r\tq"b\\s$x\\q' });
  });

  it('reads multi-line quoted values, keeping their newlines, and counts lines past them', () => {
    const r = parseDotenv('KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nNEXT=1\nS=\'a\nb\'\nLAST=2\n');
    expect(r.entries).toEqual([
      { name: 'KEY', value: '-----BEGIN KEY-----\nabc\n-----END KEY-----', line: 1 },
      { name: 'NEXT', value: '1', line: 4 },
      { name: 'S', value: 'a\nb', line: 5 },
      { name: 'LAST', value: '2', line: 7 },
    ]);
  });

  it('normalises CRLF and a BOM, and reads a last line without a newline', () => {
    expect(values('\uFEFFA=1\r\nB="x\r\ny"\r\nC=3')).toEqual({ A: '1', B: 'x\ny', C: '3' });
  });

  it('takes the last value of a repeated name, at its first position, and reports it', () => {
    const r = parseDotenv('A=1\nB=2\nA=3\n');
    expect(r.entries.map((e) => [e.name, e.value])).toEqual([
      ['A', '3'],
      ['B', '2'],
    ]);
    expect(r.duplicates).toEqual(['A']);
  });

  it('accepts dotenv names with dots and dashes, and `export` as a name', () => {
    expect(values('a.b-c=1\nexport=2\n')).toEqual({ 'a.b-c': '1', export: '2' });
  });

  it.each([
    ['an unterminated double quote', 'A=1\nB="never closed\nC=3\n', 2, /never closed/],
    ['an unterminated single quote', "A='x\n", 1, /never closed/],
    ['text after a closing quote', 'A="x" y\n', 1, /after the closing quote of A/],
    ['a line without =', 'A=1\nJUSTANAME\n', 2, /no "=" after the name/],
    ['a line that is no assignment', '=value\n', 1, /expected NAME=value/],
    ['a colon instead of =', 'A: 1\n', 1, /no "="/],
  ])('rejects %s, naming the line', (_what, text, line, message) => {
    const err = errorOf(text);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
  });

  it('never quotes the text of a bad line in its error', () => {
    const secret = 'sk_live_do_not_echo_me_123';
    for (const text of [`A="${secret}`, `A="${secret}" ${secret}`, `${secret}`, `A ${secret}`]) {
      expect(errorOf(text).message).not.toContain(secret);
    }
  });
});
