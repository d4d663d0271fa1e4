import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigv4, payloadHash, resignedPresignedTarget, signature } from '../../src/placeholder/sigv4.js';
import { configYaml, type E2E, makeE2E } from '../e2e/helpers.js';
import { startTlsApi, type TlsApi } from './helpers.js';

/**
 * `sign: aws-sigv4`: the child holds placeholder keys and signs with them (curl --aws-sigv4 here); the
 * proxy re-signs each request to the service's hosts with the real pair. The local S3 stand-in verifies
 * every signature with the real secret key (the signer itself is checked against curl in sigv4.test.ts).
 */
const AKID = 'AKIAZ7Q2M4N6P8R0T2V4';
const SECRET = 'q8Hk2/Lp0xVb7Nf+Rt5Yw3Zc9Sd1Ge6Jm4Ua2Wi0';

describe('placeholder runs: AWS SigV4 re-signing', () => {
  let e: E2E;
  let s3: TlsApi;
  const objects = new Map<string, string>();
  let verdicts: string[] = [];

  beforeAll(async () => {
    e = makeE2E(['acme']);
    s3 = await startTlsApi(e.root, '-', (req, res, body) => {
      const auth = parseSigv4(req.headers.authorization ?? '');
      const hash = payloadHash(req.rawHeaders, Buffer.from(body))!;
      let good = auth && auth.accessKeyId === AKID && signature({ method: req.method!, pathAndQuery: req.url!, rawHeaders: req.rawHeaders, payloadHash: hash }, auth, SECRET) === auth.signature;
      // A presigned URL: signing it again with the real pair must give the URL as it came (presign.test.ts
      // checks that signer against AWS's own presigner).
      const presigned = !auth && /[?&]X-Amz-Signature=/.test(req.url!);
      if (presigned) good = resignedPresignedTarget({ method: req.method!, pathAndQuery: req.url!, rawHeaders: req.rawHeaders }, { placeholderKeyId: AKID, accessKeyId: AKID, secretKey: SECRET }) === req.url;
      verdicts.push(good ? (presigned ? 'valid presigned' : 'valid') : `invalid ${auth?.accessKeyId ?? (presigned ? 'presigned' : 'none')}`);
      if (!good) {
        res.writeHead(403).end('<Error><Code>SignatureDoesNotMatch</Code></Error>\n');
        return true;
      }
      const key = req.url!.split('?')[0]!;
      if (req.method === 'PUT') objects.set(key, body);
      res.end(req.method === 'GET' ? (objects.get(key) ?? 'missing') : 'stored\n');
      return true;
    });
    e.writeRecipe('aws', `service: aws\nhosts: ["127.0.0.1:${s3.port}"]\nsecrets: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]\nsign: aws-sigv4\nrecipes:\n  noop:\n    description: unused\n    risk: read\n    run: ["true"]\n`);
    e.writeConfig(configYaml(e, { acme: 'aws:\n  secrets: { AWS_ACCESS_KEY_ID: "local:acme/akid", AWS_SECRET_ACCESS_KEY: "local:acme/secret" }\n  run: true\n  placeholder: true' }));
    await e.setSecret('local:acme/akid', AKID);
    await e.setSecret('local:acme/secret', SECRET);
  });
  afterAll(async () => {
    e?.cleanup();
    await s3?.close();
  });

  it('curl --aws-sigv4 PUT and GET with placeholder keys: the server sees valid signatures by the real pair', async () => {
    const project = e.projects.acme!;
    verdicts = [];
    writeFileSync(join(project, 's3.sh'), [
      'set -e',
      `U="https://127.0.0.1:${s3.port}/bucket"`,
      'S="aws:amz:us-east-1:s3"',
      'curl -sS --fail-with-body --aws-sigv4 "$S" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT --data-binary "object body" "$U/obj.txt"',
      'curl -sS --fail-with-body --aws-sigv4 "$S" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$U/obj.txt"; echo',
      'printf "%s %s" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > keys.txt',
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'aws', '--', 'sh', 's3.sh'], { env: { NODE_EXTRA_CA_CERTS: s3.caFile } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('stored\nobject body\n');
    expect(verdicts).toEqual(['valid', 'valid']);
    const [akid, secret] = readFileSync(join(project, 'keys.txt'), 'utf8').split(' ');
    expect(akid).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(akid).not.toBe(AKID);
    expect(secret).toHaveLength(SECRET.length);
    expect(secret).not.toBe(SECRET);
    expect(e.audit().at(-1)!.substitutions).toEqual(expect.arrayContaining([
      { secret: 'AWS_ACCESS_KEY_ID', host: '127.0.0.1', surface: 'header', count: 2 },
      { secret: 'AWS_SECRET_ACCESS_KEY', host: '127.0.0.1', surface: 'sigv4', count: 2 },
    ]));
    expect(JSON.stringify(e.audit())).not.toContain(SECRET);
  });

  it('without re-signing the same request fails: the child\'s own signature is by the placeholder key', async () => {
    const project = e.projects.acme!;
    verdicts = [];
    // Straight to the server (not through the proxy): what the child alone can do with what it holds.
    writeFileSync(join(project, 'direct.sh'), `curl -sS --noproxy '*' -k -o /dev/null -w "%{http_code}" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "https://127.0.0.1:${s3.port}/bucket/obj.txt"\n`);
    const r = await e.cli(['run', '--service', 'aws', '--', 'sh', 'direct.sh'], { env: { NODE_EXTRA_CA_CERTS: s3.caFile } });
    expect(r.stdout).toBe('403');
    expect(verdicts[0]).toMatch(/^invalid AKIA/);
  });

  it('the AWS SDK (@aws-sdk/client-s3) PutObject and GetObject, credentials from the environment', async () => {
    const project = e.projects.acme!;
    verdicts = [];
    const repo = resolve(import.meta.dirname, '../..');
    writeFileSync(join(project, 's3.mjs'), [
      "import { createRequire } from 'node:module';",
      `const require = createRequire(${JSON.stringify(join(repo, 'package.json'))});`,
      "const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');",
      `const s3 = new S3Client({ region: 'us-east-1', endpoint: 'https://127.0.0.1:${s3.port}', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', maxAttempts: 1 });`,
      "await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'sdk.txt', Body: 'from the sdk' }));",
      "const got = await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'sdk.txt' }));",
      'console.log(await got.Body.transformToString());',
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'aws', '--', 'node', 's3.mjs'], { env: { NODE_EXTRA_CA_CERTS: s3.caFile } });
    // The SDK may warn (several lines) that it will drop this node release soon; no error may show up.
    expect(r.stderr).not.toMatch(/Error|refused|outloop:/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('from the sdk\n');
    expect(verdicts).toEqual(['valid', 'valid']);
  });

  it('a presigned URL (@aws-sdk/s3-request-presigner) made with the placeholder keys works through the proxy', async () => {
    const project = e.projects.acme!;
    verdicts = [];
    objects.set('/bucket/shared.txt', 'presigned body');
    const repo = resolve(import.meta.dirname, '../..');
    writeFileSync(join(project, 'presign.mjs'), [
      "import { createRequire } from 'node:module';",
      "import https from 'node:https';",
      `const require = createRequire(${JSON.stringify(join(repo, 'package.json'))});`,
      "const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');",
      "const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');",
      `const s3 = new S3Client({ region: 'us-east-1', endpoint: 'https://127.0.0.1:${s3.port}', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });`,
      "const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bucket', Key: 'shared.txt' }), { expiresIn: 300 });",
      "if (!url.includes(process.env.AWS_ACCESS_KEY_ID)) throw new Error('not presigned by the placeholder key');",
      "https.get(url, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log(res.statusCode, b)); });",
    ].join('\n'));
    const r = await e.cli(['run', '--service', 'aws', '--', 'node', 'presign.mjs'], { env: { NODE_EXTRA_CA_CERTS: s3.caFile } });
    expect(r.stderr).not.toMatch(/Error|refused|outloop:/);
    expect(r.stdout).toBe('200 presigned body\n');
    expect(verdicts).toEqual(['valid presigned']);
    expect(e.audit().at(-1)!.substitutions).toEqual([{ secret: 'AWS_SECRET_ACCESS_KEY', host: '127.0.0.1', surface: 'sigv4', count: 1 }]);
  });
});
