import type { RecipeCase } from './harness.js';

// Shapes from https://developers.cloudflare.com/api/resources/zones/methods/list,
// /dns/subresources/records/methods/list and create, /cache/methods/purge (trimmed).
const TOKEN = 'Pl4ntedCl0udflareApiT0kenForRecipeTests0';
const secrets = { CLOUDFLARE_API_TOKEN: TOKEN };
const auth = { authorization: `Bearer ${TOKEN}` };
const jsonAuth = { ...auth, 'content-type': 'application/json' };
const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';

const envelope = (result: unknown, info?: unknown) => ({ errors: [], messages: [], success: true, result, ...(info ? { result_info: info } : {}) });
const zone = {
  id: ZONE,
  name: 'example.com',
  status: 'active',
  paused: false,
  type: 'full',
  development_mode: 0,
  name_servers: ['bob.ns.cloudflare.com', 'lola.ns.cloudflare.com'],
  original_name_servers: ['ns1.originaldnshost.com', 'ns2.originaldnshost.com'],
  account: { id: '023e105f4ecef8ad9ca31a8372d0c353', name: 'Example Account Name' },
  created_on: '2014-01-01T05:20:00.12345Z',
  modified_on: '2014-01-01T05:20:00.12345Z',
  activated_on: '2014-01-02T00:01:00.12345Z',
};
const record = {
  id: '372e67954025e0ba6aaa6d586b9e0b59',
  name: 'www.example.com',
  type: 'A',
  content: '198.51.100.4',
  proxiable: true,
  proxied: false,
  ttl: 3600,
  comment: null,
  tags: [],
  settings: {},
  meta: {},
  created_on: '2014-01-01T05:20:00.12345Z',
  modified_on: '2014-01-01T05:20:00.12345Z',
};

export const cases: RecipeCase[] = [
  {
    recipe: 'list-zones',
    name: 'defaults',
    secrets,
    expect: { method: 'GET', path: '/client/v4/zones', query: { page: '1', per_page: '20' }, headers: auth },
    respond: { body: envelope([zone], { count: 1, page: 1, per_page: 20, total_count: 1, total_pages: 1 }) },
  },
  {
    recipe: 'list-zones',
    name: 'by name',
    params: { name: 'example.com' },
    secrets,
    expect: { method: 'GET', path: '/client/v4/zones', query: { page: '1', per_page: '20', name: 'example.com' }, headers: auth },
    respond: { body: envelope([zone], { count: 1, page: 1, per_page: 20, total_count: 1, total_pages: 1 }) },
  },
  {
    recipe: 'list-dns-records',
    params: { zone: ZONE, type: 'A', name: 'www.example.com', page: '2', per_page: '50' },
    secrets,
    expect: { method: 'GET', path: `/client/v4/zones/${ZONE}/dns_records`, query: { page: '2', per_page: '50', type: 'A', name: 'www.example.com' }, headers: auth },
    respond: { body: envelope([record], { count: 1, page: 2, per_page: 50, total_count: 51, total_pages: 2 }) },
  },
  {
    recipe: 'list-dns-records',
    name: 'token without DNS read: the error JSON is printed, exit 22',
    params: { zone: ZONE },
    secrets,
    expect: { method: 'GET', path: `/client/v4/zones/${ZONE}/dns_records`, query: { page: '1', per_page: '100' }, headers: auth },
    respond: { status: 403, body: { success: false, errors: [{ code: 10000, message: 'Authentication error' }], messages: [], result: null } },
  },
  {
    recipe: 'create-dns-record',
    name: 'A record, proxied',
    params: { zone: ZONE, type: 'A', name: 'www.example.com', content: '198.51.100.4', ttl: '3600', proxied: 'true' },
    secrets,
    expect: {
      method: 'POST',
      path: `/client/v4/zones/${ZONE}/dns_records`,
      body: { type: 'A', name: 'www.example.com', content: '198.51.100.4', ttl: 3600, proxied: true },
      headers: jsonAuth,
    },
    respond: { body: envelope({ ...record, ttl: 3600, proxied: true }) },
  },
  {
    recipe: 'create-dns-record',
    name: 'TXT record with quotes, automatic TTL',
    params: { zone: ZONE, type: 'TXT', name: '_dmarc', content: '"v=DMARC1; p=none; rua=mailto:dmarc@example.com"' },
    secrets,
    expect: {
      method: 'POST',
      path: `/client/v4/zones/${ZONE}/dns_records`,
      body: { type: 'TXT', name: '_dmarc', content: '"v=DMARC1; p=none; rua=mailto:dmarc@example.com"', ttl: 1, proxied: false },
      headers: jsonAuth,
    },
    respond: {
      body: envelope({ ...record, id: '8a1b2c3d4e5f60718293a4b5c6d7e8f9', name: '_dmarc.example.com', type: 'TXT', content: '"v=DMARC1; p=none; rua=mailto:dmarc@example.com"', proxiable: false, ttl: 1 }),
    },
  },
  {
    recipe: 'purge-cache',
    params: { zone: ZONE },
    secrets,
    expect: { method: 'POST', path: `/client/v4/zones/${ZONE}/purge_cache`, body: { purge_everything: true }, headers: jsonAuth },
    respond: { body: envelope({ id: ZONE }) },
  },
];
