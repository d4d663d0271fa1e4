import { createServer, type Server } from 'node:http';

/**
 * A local JSON API for output-contract tests. It demands `Authorization: Bearer <token>` and, like
 * careless APIs, echoes it: plainly in `data[*].echo`, and JSON-escaped (\u0070...) in `escaped`, which
 * a byte-level redactor cannot see but JSON parsing would turn back into the plain value.
 */
export interface JsonApi {
  port: number;
  close(): Promise<void>;
  /** Bytes of /v1/big the server managed to write before the client went away. */
  bigWritten(): number;
}

export async function startJsonApi(token: string): Promise<JsonApi> {
  let bigWritten = 0;
  const server: Server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v1/invoices') {
      const escaped = auth.replace(/^Bearer /, '').replace(/^./, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      res.setHeader('content-type', 'application/json');
      res.end(
        `{"object":"list","total_count":2,"big_id":12345678901234567890,"escaped":"${escaped}","data":[` +
          `{"id":"in_1","order":"ord_4242424242424242","customer":{"email":"ann@example.com","phone":"+44 20 7946 0958","name":"Ann Lee"},"echo":${JSON.stringify(auth)},"created":1700000000000},` +
          `{"id":"in_2","order":"ord_5555555555554444","customer":{"email":"ann@example.com","phone":"(415) 555-0132","name":"Ann Lee"},"echo":${JSON.stringify(auth)},"created":1700000000001}` +
          `],"note":"card on file 4242 4242 4242 4242, iban DE89 3704 0044 0532 0130 00"}\n`,
      );
      return;
    }
    if (url.pathname === '/v1/html') {
      res.setHeader('content-type', 'text/html');
      res.end(`<html><body>502 upstream said: ${auth} and unique-marker-html</body></html>\n`);
      return;
    }
    if (url.pathname === '/v1/big') {
      // 1 KiB every 20 ms for up to 10 s: a child that is not stopped takes the whole time.
      res.setHeader('content-type', 'application/json');
      res.write('[');
      let n = 0;
      const timer = setInterval(() => {
        if (res.destroyed || n >= 500) {
          clearInterval(timer);
          if (!res.destroyed) res.end('0]');
          return;
        }
        const chunk = `"${'x'.repeat(1020)}",`;
        res.write(chunk);
        bigWritten += chunk.length;
        n++;
      }, 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
    bigWritten: () => bigWritten,
  };
}

/** A recipe file with one curl recipe per path, each with the given output contract (YAML flow text). */
export function shopRecipe(port: number, recipes: Record<string, { path: string; output?: string }>): string {
  const body = Object.entries(recipes)
    .map(([name, r]) => `  ${name}:
    description: ${name}
    risk: read
    run: [curl, -sS, -N, -K, "-", "http://127.0.0.1:${port}${r.path}"]
    stdin: |
      header = "Authorization: Bearer {{secrets.TOKEN}}"
    timeout: 20s
${r.output ? `    output: ${r.output}\n` : ''}`)
    .join('');
  return `service: shop
description: a local JSON API
hosts: ["127.0.0.1:${port}"]
secrets: [TOKEN]
recipes:
${body}`;
}
