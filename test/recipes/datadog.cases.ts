import type { RecipeCase } from './harness.js';

// Shapes from https://docs.datadoghq.com/api/latest/: metrics/query-timeseries-points (v1),
// monitors/get-all-monitor-details, monitors/get-a-monitors-details, logs/search-logs (v2),
// monitors/mute-a-monitor (trimmed).
const API_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const APP_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9001234567';
const secrets = { DD_API_KEY: API_KEY, DD_APP_KEY: APP_KEY };
const auth = { 'dd-api-key': API_KEY, 'dd-application-key': APP_KEY };

const monitor = {
  id: 2081,
  name: 'Bytes received on host0',
  type: 'metric alert',
  query: 'avg(last_5m):sum:system.net.bytes_rcvd{host:host0} > 100',
  message: 'We may need to add web hosts if this is consistently high.',
  tags: ['team:web', 'env:prod'],
  options: { notify_no_data: false, silenced: {}, thresholds: { critical: 100 } },
  overall_state: 'OK',
  priority: null,
  created: '2026-11-01T12:00:00.000000+00:00',
  modified: '2026-11-01T12:00:00.000000+00:00',
  creator: { email: 'ops@example.com', handle: 'ops@example.com', name: 'Ops' },
  multi: false,
};
const logsPage = (after?: string) => ({
  data: [
    {
      id: 'AAAAAXGLdD0AAABPV-5whqgB',
      type: 'log',
      attributes: {
        timestamp: '2026-11-24T00:59:42.000Z',
        host: 'web-1',
        service: 'web',
        status: 'error',
        message: 'upstream timed out (110: Connection timed out)',
        tags: ['env:prod', 'team:web'],
        attributes: { http: { status_code: 504 } },
      },
    },
  ],
  links: after ? { next: 'https://api.datadoghq.com/api/v2/logs/events/search?page[cursor]=' + after } : {},
  meta: { elapsed: 132, page: after ? { after } : {}, request_id: 'MWlFUjVaWGZTTTZPYzM0VXp1OXU2d3xLSVpEMjZKQ0VKUTI0dEYtM3RSOFVR', status: 'done' },
});
const CURSOR = 'eyJzdGFydEF0IjoiQVFBQUFYS2tMS3pPbm40NGV3QUFBQUJCV0V0clRFdDZVbG8zY3pCRmNsbHJiVmxDWlEifQ==';

export const cases: RecipeCase[] = [
  {
    recipe: 'query-metrics',
    params: { query: 'avg:system.cpu.user{env:prod,role:web} by {host}', from: '1763942400', to: '1763946000' },
    secrets,
    expect: {
      method: 'GET',
      path: '/api/v1/query',
      query: { from: '1763942400', to: '1763946000', query: 'avg:system.cpu.user{env:prod,role:web} by {host}' },
      headers: auth,
    },
    respond: {
      body: {
        status: 'ok',
        res_type: 'time_series',
        resp_version: 1,
        query: 'avg:system.cpu.user{env:prod,role:web} by {host}',
        from_date: 1763942400000,
        to_date: 1763946000000,
        group_by: ['host'],
        series: [
          {
            metric: 'system.cpu.user',
            display_name: 'system.cpu.user',
            aggr: 'avg',
            expression: 'avg:system.cpu.user{env:prod,host:web-1,role:web}',
            scope: 'env:prod,host:web-1,role:web',
            tag_set: ['host:web-1'],
            interval: 20,
            length: 2,
            start: 1763942400000,
            end: 1763942439000,
            pointlist: [
              [1763942400000, 12.5],
              [1763942420000, 13.25],
            ],
            unit: [{ family: 'percentage', name: 'percent', plural: 'percent', scale_factor: 1, short_name: '%' }, null],
          },
        ],
        message: '',
      },
    },
  },
  {
    recipe: 'query-metrics',
    name: 'EU site; a missing scope prints the error JSON, exit 22',
    params: { site: 'datadoghq.eu', query: 'sum:trace.http.request.hits{*}.as_count()', from: '1763942400', to: '1763946000' },
    secrets,
    expect: { method: 'GET', path: '/api/v1/query', query: { from: '1763942400', to: '1763946000', query: 'sum:trace.http.request.hits{*}.as_count()' }, headers: auth },
    respond: { status: 403, body: { errors: ['Forbidden'] } },
  },
  {
    recipe: 'list-monitors',
    name: 'defaults',
    secrets,
    expect: { method: 'GET', path: '/api/v1/monitor', query: { page: '0', page_size: '50' }, headers: auth },
    respond: { body: [monitor] },
  },
  {
    recipe: 'list-monitors',
    name: 'by name and tags',
    params: { name: 'Bytes received & sent', tags: 'team:web,env:prod', page: '2', page_size: '10' },
    secrets,
    expect: { method: 'GET', path: '/api/v1/monitor', query: { page: '2', page_size: '10', name: 'Bytes received & sent', monitor_tags: 'team:web,env:prod' }, headers: auth },
    respond: { body: [] },
  },
  {
    recipe: 'get-monitor',
    params: { id: '2081' },
    secrets,
    expect: { method: 'GET', path: '/api/v1/monitor/2081', query: { group_states: 'all' }, headers: auth },
    respond: { body: { ...monitor, state: { groups: { 'host:host0': { name: 'host:host0', status: 'OK', last_triggered_ts: 1763900000 } } } } },
  },
  {
    recipe: 'search-logs',
    name: 'defaults',
    secrets,
    expect: {
      method: 'POST',
      path: '/api/v2/logs/events/search',
      body: { filter: { query: '*', from: 'now-15m', to: 'now' }, sort: '-timestamp', page: { limit: 50 } },
      headers: { ...auth, 'content-type': 'application/json' },
    },
    respond: { body: logsPage(CURSOR) },
  },
  {
    recipe: 'search-logs',
    name: 'query, window and next page',
    params: { query: 'service:web status:error @http.url_details.path:"/api/v1/*"', from: '2026-11-24T00:00:00Z', to: 'now-5m', limit: '200', cursor: CURSOR },
    secrets,
    expect: {
      method: 'POST',
      path: '/api/v2/logs/events/search',
      body: {
        filter: { query: 'service:web status:error @http.url_details.path:"/api/v1/*"', from: '2026-11-24T00:00:00Z', to: 'now-5m' },
        sort: '-timestamp',
        page: { limit: 200, cursor: CURSOR },
      },
      headers: { ...auth, 'content-type': 'application/json' },
    },
    respond: { body: logsPage() },
  },
  {
    recipe: 'mute-monitor',
    name: 'whole monitor',
    params: { id: '2081', end: '1763949600' },
    secrets,
    expect: { method: 'POST', path: '/api/v1/monitor/2081/mute', query: { end: '1763949600' }, headers: auth },
    respond: { body: { ...monitor, options: { ...monitor.options, silenced: { '*': 1763949600 } } } },
  },
  {
    recipe: 'mute-monitor',
    name: 'one group',
    params: { id: '2081', end: '1763949600', scope: 'host:host0' },
    secrets,
    expect: { method: 'POST', path: '/api/v1/monitor/2081/mute', query: { end: '1763949600', scope: 'host:host0' }, headers: auth },
    respond: { body: { ...monitor, options: { ...monitor.options, silenced: { 'host:host0': 1763949600 } } } },
  },
];
