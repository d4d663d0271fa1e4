import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { resignedPresignedTarget } from '../../src/placeholder/sigv4.js';

/**
 * Presigned URLs, checked against AWS's own presigner: a URL presigned with the placeholder keys and
 * re-signed by the proxy must equal, byte for byte, the URL the SDK presigns with the real keys.
 */
const REAL = { accessKeyId: 'AKIAZ7Q2M4N6P8R0T2V4', secretAccessKey: 'q8Hk2/Lp0xVb7Nf+Rt5Yw3Zc9Sd1Ge6Jm4Ua2Wi0' };
const FAKE = { accessKeyId: 'AKIAPLACEHOLDER0AB12', secretAccessKey: 'Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7M' };
const signingDate = new Date('2026-12-02T10:00:00Z');

async function presign(credentials: typeof REAL & { sessionToken?: string }, cmd: GetObjectCommand | PutObjectCommand) {
  const s3 = new S3Client({ region: 'eu-west-1', credentials, endpoint: 'https://127.0.0.1:9443', forcePathStyle: true });
  return new URL(await getSignedUrl(s3, cmd, { expiresIn: 600, signingDate }));
}
const target = (u: URL) => u.pathname + u.search;
const hostHeader = (u: URL) => ['Host', u.host];

describe('SigV4 presigned URLs', () => {
  for (const [label, cmd] of [
    ['GET', () => new GetObjectCommand({ Bucket: 'bucket', Key: 'dir/a b+c.txt' })],
    ['PUT', () => new PutObjectCommand({ Bucket: 'bucket', Key: 'obj.txt' })],
  ] as const) {
    it(`${label}: the placeholder-signed URL re-signed with the real pair equals the SDK's own`, async () => {
      const fake = await presign(FAKE, cmd());
      const real = await presign(REAL, cmd());
      expect(fake.searchParams.get('X-Amz-Signature')).not.toBe(real.searchParams.get('X-Amz-Signature'));
      const out = resignedPresignedTarget({ method: label, pathAndQuery: target(fake), rawHeaders: hostHeader(fake) },
        { placeholderKeyId: FAKE.accessKeyId, accessKeyId: REAL.accessKeyId, secretKey: REAL.secretAccessKey });
      expect(out).toBe(target(real));
    });
  }

  it('a session token in the URL is swapped too', async () => {
    const fake = await presign({ ...FAKE, sessionToken: 'PLACEHOLDERtoken0123456789' }, new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    const real = await presign({ ...REAL, sessionToken: 'REALtoken/with+odd=chars' }, new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    const out = resignedPresignedTarget({ method: 'GET', pathAndQuery: target(fake), rawHeaders: hostHeader(fake) },
      { placeholderKeyId: FAKE.accessKeyId, accessKeyId: REAL.accessKeyId, secretKey: REAL.secretAccessKey, sessionToken: { placeholder: 'PLACEHOLDERtoken0123456789', value: 'REALtoken/with+odd=chars' } });
    expect(out).toBe(target(real));
  });

  it('not presigned, or presigned by another key: left alone', async () => {
    const keys = { placeholderKeyId: FAKE.accessKeyId, accessKeyId: REAL.accessKeyId, secretKey: REAL.secretAccessKey };
    expect(resignedPresignedTarget({ method: 'GET', pathAndQuery: '/bucket/k?list-type=2', rawHeaders: [] }, keys)).toBeUndefined();
    const other = await presign({ accessKeyId: 'AKIAOTHERKEY00000000', secretAccessKey: FAKE.secretAccessKey }, new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect(resignedPresignedTarget({ method: 'GET', pathAndQuery: target(other), rawHeaders: hostHeader(other) }, keys)).toBeUndefined();
  });
});
