import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { testCa } from './helpers.js';

/**
 * A git smart-HTTP server: git's own http-backend (CGI) behind a node https server that demands Basic
 * auth whose password is the real token, the way GitHub takes `x-access-token:TOKEN`.
 */
export const GIT_HTTP_BACKEND = (() => {
  try {
    return join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');
  } catch {
    return undefined;
  }
})();

export async function startGitServer(dir: string, real: string) {
  const root = join(dir, 'git-root');
  mkdirSync(root, { recursive: true });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'repo.git')]);
  execFileSync('git', ['-C', join(root, 'repo.git'), 'config', 'http.receivepack', 'true']);
  const ca = testCa(dir, 'git-ca');
  const auths: (string | undefined)[] = [];
  const server = createServer(ca.leaf(['127.0.0.1', 'localhost']), (req, res) => {
    const auth = req.headers.authorization;
    auths.push(auth);
    const pass = /^Basic (.+)$/.exec(auth ?? '') ? Buffer.from(auth!.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
    if (pass !== real) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('auth needed\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    const cgi = spawn(GIT_HTTP_BACKEND!, [], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', REMOTE_USER: 'agent',
        REQUEST_METHOD: req.method, PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '', ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let done = false;
    cgi.stdout.on('data', (d: Buffer) => {
      if (done) return void res.write(d);
      head = Buffer.concat([head, d]);
      const i = head.indexOf('\r\n\r\n');
      const j = i >= 0 ? i : head.indexOf('\n\n');
      if (j < 0) return;
      const lines = head.subarray(0, j).toString('latin1').split(/\r?\n/);
      let status = 200;
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const k = l.slice(0, l.indexOf(':')).trim();
        const v = l.slice(l.indexOf(':') + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      done = true;
      res.write(head.subarray(j + (i >= 0 ? 4 : 2)));
    });
    cgi.stdout.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, caFile: ca.caFile, auths, root, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
