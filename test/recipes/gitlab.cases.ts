import type { RecipeCase } from './harness.js';

// Shapes from docs.gitlab.com/api (issues, notes, merge_requests, projects, pipelines), trimmed. A project
// path is sent URL-encoded in the path (gitlab-org%2Fgitlab), as GitLab documents.
const TOKEN = 'glpat-PlantedRecipeTestToken0123';
const secrets = { GITLAB_TOKEN: TOKEN };
const headers = { 'private-token': TOKEN };
const json = { ...headers, 'content-type': 'application/json' };
const P = '/api/v4/projects/gitlab-org%2Fgitlab';

const author = { id: 1, username: 'root', name: 'Administrator', state: 'active', web_url: 'https://gitlab.example.com/root' };
const issue = {
  id: 76,
  iid: 6,
  project_id: 278964,
  title: 'Consequatur vero maxime deserunt laboriosam est voluptas dolorem.',
  description: 'Ratione dolores corrupti mollitia soluta quia.',
  state: 'opened',
  labels: ['bug'],
  author,
  web_url: 'https://gitlab.com/gitlab-org/gitlab/-/issues/6',
  created_at: '2016-01-04T15:31:51.081Z',
};
const note = { id: 302, body: 'closed', author, created_at: '2013-10-02T09:22:45Z', system: false, noteable_type: 'Issue', noteable_iid: 6 };
const mr = { id: 1, iid: 1, project_id: 3, title: 'test1', state: 'opened', source_branch: 'test1', target_branch: 'main', author, merge_status: 'can_be_merged' };

export const cases: RecipeCase[] = [
  {
    recipe: 'list-issues',
    params: { project: 'gitlab-org/gitlab' },
    secrets,
    expect: { method: 'GET', path: `${P}/issues`, query: { per_page: '20', page: '1' }, headers },
    respond: { body: [issue] },
  },
  {
    recipe: 'list-issues',
    name: 'numeric id, filtered by state, labels and free-text search',
    params: { project: '278964', state: 'opened', labels: 'bug,needs review', search: 'crash & burn?' },
    secrets,
    expect: {
      method: 'GET',
      path: '/api/v4/projects/278964/issues',
      query: { per_page: '20', page: '1', state: 'opened', labels: 'bug,needs review', search: 'crash & burn?' },
      headers,
    },
    respond: { body: [] },
  },
  {
    recipe: 'get-issue',
    params: { project: 'gitlab-org/gitlab', iid: '6' },
    secrets,
    expect: { method: 'GET', path: `${P}/issues/6`, headers },
    respond: { body: issue },
  },
  {
    recipe: 'get-issue',
    name: 'not found',
    params: { project: 'gitlab-org/gitlab', iid: '999999' },
    secrets,
    expect: { method: 'GET', path: `${P}/issues/999999`, headers },
    respond: { status: 404, body: { message: '404 Not found' } },
  },
  {
    recipe: 'list-issue-notes',
    params: { project: 'gitlab-org/gitlab', iid: '6', page: '2' },
    secrets,
    expect: { method: 'GET', path: `${P}/issues/6/notes`, query: { sort: 'asc', per_page: '20', page: '2' }, headers },
    respond: { body: [note] },
  },
  {
    recipe: 'list-merge-requests',
    params: { project: 'gitlab-org/gitlab', state: 'merged', target_branch: 'main' },
    secrets,
    expect: { method: 'GET', path: `${P}/merge_requests`, query: { state: 'merged', per_page: '20', page: '1', target_branch: 'main' }, headers },
    respond: { body: [mr] },
  },
  {
    recipe: 'get-merge-request',
    params: { project: 'gitlab-org/gitlab', iid: '1' },
    secrets,
    expect: { method: 'GET', path: `${P}/merge_requests/1`, headers },
    respond: { body: { ...mr, changes_count: '1', diff_refs: { base_sha: 'c380d3acebd181f13629a25d2e2acca46ffe1e00', head_sha: '2be7ddb704c7b6b83732fdd5b9f09d5a397b5f8f' } } },
  },
  {
    recipe: 'get-project',
    params: { project: 'gitlab-org/gitlab' },
    secrets,
    expect: { method: 'GET', path: P, headers },
    respond: { body: { id: 278964, name: 'GitLab', path_with_namespace: 'gitlab-org/gitlab', default_branch: 'master', visibility: 'public', web_url: 'https://gitlab.com/gitlab-org/gitlab' } },
  },
  {
    recipe: 'list-pipelines',
    params: { project: 'gitlab-org/gitlab', ref: 'main', status: 'failed' },
    secrets,
    expect: { method: 'GET', path: `${P}/pipelines`, query: { per_page: '20', page: '1', ref: 'main', status: 'failed' }, headers },
    respond: { body: [{ id: 47, iid: 12, project_id: 1, status: 'failed', source: 'push', ref: 'main', sha: 'a91957a858320c0e17f3a0eca7cfacbff50ea29a', web_url: 'https://example.com/foo/bar/pipelines/47' }] },
  },
  {
    recipe: 'create-issue-note',
    params: { project: 'gitlab-org/gitlab', iid: '6', body: 'Seen in "prod" too: see `C:\\logs`' },
    secrets,
    expect: { method: 'POST', path: `${P}/issues/6/notes`, body: { body: 'Seen in "prod" too: see `C:\\logs`' }, headers: json },
    respond: { status: 201, body: note },
  },
  {
    recipe: 'create-merge-request-note',
    params: { project: '278964', iid: '1', body: 'LGTM' },
    secrets,
    expect: { method: 'POST', path: '/api/v4/projects/278964/merge_requests/1/notes', body: { body: 'LGTM' }, headers: json },
    respond: { status: 201, body: { ...note, body: 'LGTM', noteable_type: 'MergeRequest', noteable_iid: 1 } },
  },
  {
    recipe: 'create-issue',
    params: { project: 'gitlab-org/gitlab', title: 'Crash on start' },
    secrets,
    expect: { method: 'POST', path: `${P}/issues`, body: { title: 'Crash on start', description: null }, headers: json },
    respond: { status: 201, body: { ...issue, title: 'Crash on start', description: null } },
  },
];
