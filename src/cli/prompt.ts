import { UsageError } from '../errors.js';

/**
 * Read a secret value without it ever being on the command line: from stdin when it is a pipe, or from a
 * hidden prompt on a terminal (nothing echoed). One trailing newline is dropped, as `echo KEY | ...` adds it.
 */
export async function readSecretValue(label: string): Promise<string> {
  const stdin = process.stdin;
  const value = stdin.isTTY ? await hiddenPrompt(`Value for ${label} (input hidden): `) : await readAll(stdin);
  const trimmed = value.replace(/\r?\n$/, '');
  if (trimmed.length === 0) throw new UsageError('empty value: nothing was stored', { next: 'Pipe the value on stdin, or type it at the prompt.' });
  return trimmed;
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

function hiddenPrompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled: nothing was stored', { code: 'cancelled' }));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
