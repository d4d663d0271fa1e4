import type { RecipeCase } from './harness.js';

// Shapes from https://vercel.com/docs/rest-api: deployments/list-deployments (GET /v6/deployments),
// deployments/get-a-deployment-by-id-or-url (GET /v13/deployments/{id}), projects/retrieve-a-list-of-projects
// (GET /v10/projects), trimmed.
const TOKEN = 'PlantedVercelAccessToken0123456789abcd';
const secrets = { VERCEL_TOKEN: TOKEN };
const auth = { authorization: `Bearer ${TOKEN}` };
const TEAM = 'team_1a2b3c4d5e6f7g8h9i0j';
const DPL = 'dpl_89qyp1cskzkLrVicDaZoDbjyHuDJ';

const deployment = {
  uid: DPL,
  name: 'docs',
  url: 'docs-9jaeg38me.vercel.app',
  created: 1609492210000,
  state: 'READY',
  readyState: 'READY',
  type: 'LAMBDAS',
  target: 'production',
  projectId: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB',
  creator: { uid: '96SnxkFiMyVKsK3pnoHfx3Hz', email: 'ops@example.com', username: 'ops' },
  meta: { githubCommitRef: 'main', githubCommitSha: 'de8b89f13b2bc164cf07e735921bf5513e17951d' },
  inspectorUrl: 'https://vercel.com/acme/docs/9jaeg38me',
};
const pagination = (count: number, next: number | null) => ({ count, next, prev: 1609492210000 });

export const cases: RecipeCase[] = [
  {
    recipe: 'list-deployments',
    name: 'defaults',
    secrets,
    expect: { method: 'GET', path: '/v6/deployments', query: { limit: '20' }, headers: auth },
    respond: { body: { pagination: pagination(1, 1555072968396), deployments: [deployment] } },
  },
  {
    recipe: 'list-deployments',
    name: 'one project, production, failed, older page, team',
    params: { limit: '5', until: '1555072968396', project: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB', target: 'production', state: 'ERROR', team: TEAM },
    secrets,
    expect: {
      method: 'GET',
      path: '/v6/deployments',
      query: { limit: '5', until: '1555072968396', projectId: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB', target: 'production', state: 'ERROR', teamId: TEAM },
      headers: auth,
    },
    respond: { body: { pagination: pagination(1, null), deployments: [{ ...deployment, state: 'ERROR', readyState: 'ERROR' }] } },
  },
  {
    recipe: 'get-deployment',
    params: { id: DPL, team: TEAM },
    secrets,
    expect: { method: 'GET', path: `/v13/deployments/${DPL}`, query: { teamId: TEAM }, headers: auth },
    respond: {
      body: {
        id: DPL,
        name: 'docs',
        url: 'docs-9jaeg38me.vercel.app',
        createdAt: 1609492210000,
        buildingAt: 1609492212000,
        ready: 1609492260000,
        readyState: 'READY',
        target: 'production',
        alias: ['docs.example.com'],
        aliasAssigned: true,
        projectId: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB',
        regions: ['iad1'],
        creator: { uid: '96SnxkFiMyVKsK3pnoHfx3Hz', username: 'ops' },
        gitSource: { type: 'github', ref: 'main', sha: 'de8b89f13b2bc164cf07e735921bf5513e17951d', repoId: 123456789 },
      },
    },
  },
  {
    recipe: 'get-deployment',
    name: 'unknown id: the error JSON is printed, exit 22',
    params: { id: 'dpl_doesNotExist' },
    secrets,
    expect: { method: 'GET', path: '/v13/deployments/dpl_doesNotExist', headers: auth },
    respond: { status: 404, body: { error: { code: 'not_found', message: 'The deployment could not be found.' } } },
  },
  {
    recipe: 'list-projects',
    params: { limit: '2', from: '1609492210000', search: 'docs' },
    secrets,
    expect: { method: 'GET', path: '/v10/projects', query: { limit: '2', from: '1609492210000', search: 'docs' }, headers: auth },
    respond: {
      body: {
        projects: [
          {
            id: 'prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB',
            name: 'docs',
            accountId: TEAM,
            framework: 'nextjs',
            nodeVersion: '20.x',
            createdAt: 1555072968396,
            updatedAt: 1609492210000,
            link: { type: 'github', org: 'acme', repo: 'docs', productionBranch: 'main' },
          },
        ],
        pagination: { count: 1, next: null, prev: 1609492210000 },
      },
    },
  },
];
