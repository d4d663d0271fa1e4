import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4, for re-signing: the child signs each request with its placeholder secret key;
 * the proxy recomputes the signature over the same request (the headers the child signed, after the
 * access key id and session token were swapped in) with the real key, and replaces the Authorization
 * header. Steps as the AWS docs give them: canonical request, string to sign, signing key, signature.
 * S3 takes the path as sent; other services encode each segment once more.
 */
export interface Sigv4Auth {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function parseSigv4(value: string): Sigv4Auth | undefined {
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/.exec(value);
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';'), signature: m[6]! };
}

export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function canonicalUri(path: string, service: string): string {
  if (!path) return '/';
  if (service === 's3') return path;
  return path.split('/').map((seg) => uriEncode(seg)).join('/');
}

export function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEncode(decode(k)), uriEncode(decode(v))] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const sha256 = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();

/** The signature of a request (headers as node's rawHeaders, the path with its query as sent). */
export function signature(
  req: { method: string; pathAndQuery: string; rawHeaders: readonly string[]; payloadHash: string },
  auth: Omit<Sigv4Auth, 'signature' | 'accessKeyId'>,
  secretKey: string,
  /** A presigned URL carries its date in the query (X-Amz-Date), not in a header. */
  amzDateOverride?: string,
): string {
  const q = req.pathAndQuery.indexOf('?');
  const path = q < 0 ? req.pathAndQuery : req.pathAndQuery.slice(0, q);
  const query = q < 0 ? '' : req.pathAndQuery.slice(q + 1);
  const values = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!.toLowerCase();
    (values.get(k) ?? values.set(k, []).get(k)!).push(req.rawHeaders[i + 1]!.trim().replace(/\s+/g, ' '));
  }
  const headers = auth.signedHeaders.map((h) => `${h}:${(values.get(h) ?? []).join(',')}\n`).join('');
  const canonical = [req.method, canonicalUri(path, auth.service), canonicalQuery(query), headers, auth.signedHeaders.join(';'), req.payloadHash].join('\n');
  const amzDate = amzDateOverride ?? values.get('x-amz-date')?.[0] ?? '';
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

export function payloadHash(rawHeaders: readonly string[], body: Buffer | undefined): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'x-amz-content-sha256') return rawHeaders[i + 1]!.trim();
  return body === undefined ? undefined : sha256(body);
}

/** The Authorization header for the same request signed with the real key (accessKeyId already real). */
export function resignedAuthorization(auth: Sigv4Auth, req: Parameters<typeof signature>[0], secretKey: string): string {
  const sig = signature(req, auth, secretKey);
  return `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/${auth.date}/${auth.region}/${auth.service}/aws4_request, SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${sig}`;
}

/**
 * Presigned URLs (query-string auth, as `getSignedUrl` and `aws s3 presign` make them): the child signed
 * the URL with the placeholder keys, so X-Amz-Credential names the placeholder key id. Swap in the real
 * key id (and session token), sign the canonical request again (the query without X-Amz-Signature, the
 * date from X-Amz-Date, S3's UNSIGNED-PAYLOAD unless the query names a payload hash) with the real secret
 * key, and put the new signature where the old one was. Undefined when the target is not a presigned
 * request by `placeholderKeyId`.
 */
export function resignedPresignedTarget(
  req: { method: string; pathAndQuery: string; rawHeaders: readonly string[] },
  keys: { placeholderKeyId: string; accessKeyId: string; secretKey: string; sessionToken?: { placeholder: string; value: string } },
): string | undefined {
  const q = req.pathAndQuery.indexOf('?');
  if (q < 0) return undefined;
  const pairs = req.pathAndQuery.slice(q + 1).split('&');
  const get = (name: string) => {
    const p = pairs.find((x) => x.startsWith(`${name}=`));
    return p === undefined ? undefined : decode(p.slice(name.length + 1));
  };
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return undefined;
  const cred = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(get('X-Amz-Credential') ?? '');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const amzDate = get('X-Amz-Date');
  // The real key id too: a recipe that lists `query` has had the placeholder swapped already.
  if (!cred || !keys.placeholderKeyId || ![keys.placeholderKeyId, keys.accessKeyId].includes(cred[1]!) || !signedHeaders || !amzDate || get('X-Amz-Signature') === undefined) return undefined;
  const auth = { date: cred[2]!, region: cred[3]!, service: cred[4]!, signedHeaders: signedHeaders.split(';') };
  const swapped = pairs.map((p) => {
    if (p.startsWith('X-Amz-Credential=')) return `X-Amz-Credential=${uriEncode(`${keys.accessKeyId}/${auth.date}/${auth.region}/${auth.service}/aws4_request`)}`;
    if (keys.sessionToken && p.startsWith('X-Amz-Security-Token=') && decode(p.slice(21)) === keys.sessionToken.placeholder) return `X-Amz-Security-Token=${uriEncode(keys.sessionToken.value)}`;
    return p;
  });
  const head = `${req.pathAndQuery.slice(0, q)}?`;
  const unsigned = `${head}${swapped.filter((p) => !p.startsWith('X-Amz-Signature=')).join('&')}`;
  const payload = get('X-Amz-Content-Sha256') ?? (auth.service === 's3' ? 'UNSIGNED-PAYLOAD' : sha256(''));
  const sig = signature({ method: req.method, pathAndQuery: unsigned, rawHeaders: req.rawHeaders, payloadHash: payload }, auth, keys.secretKey, amzDate);
  // The new signature where the old one was: the rest of the URL stays as the child sent it.
  return head + swapped.map((p) => (p.startsWith('X-Amz-Signature=') ? `X-Amz-Signature=${sig}` : p)).join('&');
}
