import type { RecipeCase } from './harness.js';

// Shapes from https://docs.sentry.io/api/: organizations/list-an-organizations-projects,
// events/list-an-organizations-issues, events/retrieve-an-issue, events/update-an-issue (trimmed).
const TOKEN = 'sntryu_PlantedSentryUserAuthToken0123456789abcdef0123456789abcdef';
const secrets = { SENTRY_TOKEN: TOKEN };
const auth = { authorization: `Bearer ${TOKEN}` };

const project = {
  id: '4505321021243392',
  slug: 'the-spoiled-yoghurt',
  name: 'The Spoiled Yoghurt',
  platform: 'python',
  dateCreated: '2023-03-29T15:25:21.344565Z',
  isBookmarked: false,
  isMember: true,
  features: ['alert-filters', 'minidump'],
  firstEvent: '2023-03-29T15:30:00Z',
  hasAccess: true,
  team: { id: '2', name: 'Powerful Abolitionist', slug: 'powerful-abolitionist' },
};
const issue = {
  id: '1',
  shortId: 'PUMP-STATION-1',
  title: 'This is an example Python exception',
  culprit: 'raven.scripts.runner in main',
  permalink: 'https://the-interstellar-jurisdiction.sentry.io/issues/1/',
  level: 'error',
  status: 'unresolved',
  statusDetails: {},
  isPublic: false,
  platform: 'python',
  project: { id: '2', name: 'Pump Station', slug: 'pump-station' },
  type: 'default',
  metadata: { title: 'This is an example Python exception' },
  numComments: 0,
  assignedTo: null,
  isBookmarked: false,
  isSubscribed: true,
  hasSeen: false,
  count: '150',
  userCount: 0,
  firstSeen: '2018-11-06T21:19:55Z',
  lastSeen: '2018-11-06T21:19:55Z',
};

export const cases: RecipeCase[] = [
  {
    recipe: 'list-projects',
    params: { org: 'the-interstellar-jurisdiction' },
    secrets,
    expect: { method: 'GET', path: '/api/0/organizations/the-interstellar-jurisdiction/projects/', headers: auth },
    respond: { body: [project] },
  },
  {
    recipe: 'list-projects',
    name: 'next page, EU region',
    params: { org: 'the-interstellar-jurisdiction', region: 'de', cursor: '1735689600000:100:0' },
    secrets,
    expect: { method: 'GET', path: '/api/0/organizations/the-interstellar-jurisdiction/projects/', query: { cursor: '1735689600000:100:0' }, headers: auth },
    respond: { body: [project] },
  },
  {
    recipe: 'list-issues',
    name: 'defaults',
    params: { org: 'the-interstellar-jurisdiction' },
    secrets,
    expect: {
      method: 'GET',
      path: '/api/0/organizations/the-interstellar-jurisdiction/issues/',
      query: { query: 'is:unresolved', sort: 'date', limit: '25' },
      headers: auth,
    },
    respond: {
      body: [issue],
      headers: {
        link: '<https://us.sentry.io/api/0/organizations/the-interstellar-jurisdiction/issues/?cursor=1541539195000:0:1>; rel="previous"; results="false"; cursor="1541539195000:0:1", <https://us.sentry.io/api/0/organizations/the-interstellar-jurisdiction/issues/?cursor=1541539195000:0:0>; rel="next"; results="true"; cursor="1541539195000:0:0"',
      },
    },
  },
  {
    recipe: 'list-issues',
    name: 'search, project, environment, period, cursor',
    params: {
      org: 'the-interstellar-jurisdiction',
      query: 'is:unresolved level:error message:"timeout & retry"',
      project: '2',
      environment: 'production',
      period: '14d',
      sort: 'freq',
      limit: '10',
      cursor: '1541539195000:0:0',
    },
    secrets,
    expect: {
      method: 'GET',
      path: '/api/0/organizations/the-interstellar-jurisdiction/issues/',
      query: {
        query: 'is:unresolved level:error message:"timeout & retry"',
        project: '2',
        environment: 'production',
        statsPeriod: '14d',
        sort: 'freq',
        limit: '10',
        cursor: '1541539195000:0:0',
      },
      headers: auth,
    },
    respond: { body: [issue] },
  },
  {
    recipe: 'get-issue',
    params: { org: 'the-interstellar-jurisdiction', id: '1' },
    secrets,
    expect: { method: 'GET', path: '/api/0/organizations/the-interstellar-jurisdiction/issues/1/', headers: auth },
    respond: { body: { ...issue, stats: { '24h': [[1541455200, 473]] }, seenBy: [], participants: [] } },
  },
  {
    recipe: 'get-issue',
    name: 'token without access: the error JSON is printed, exit 22',
    params: { org: 'the-interstellar-jurisdiction', id: '2' },
    secrets,
    expect: { method: 'GET', path: '/api/0/organizations/the-interstellar-jurisdiction/issues/2/', headers: auth },
    respond: { status: 403, body: { detail: 'You do not have permission to perform this action.' } },
  },
  {
    recipe: 'resolve-issue',
    params: { org: 'the-interstellar-jurisdiction', id: '1' },
    secrets,
    expect: { method: 'PUT', path: '/api/0/organizations/the-interstellar-jurisdiction/issues/1/', body: { status: 'resolved' }, headers: { ...auth, 'content-type': 'application/json' } },
    respond: { body: { ...issue, status: 'resolved' } },
  },
];
