import type { RecipeCase } from './harness.js';

// Shapes from docs.github.com/en/rest (issues, pulls, repos, actions/workflow-runs, search), trimmed.
// Every request carries the three headers GitHub documents for REST calls.
const TOKEN = 'github_pat_11PLANTED0RecipeTests_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF';
const secrets = { GITHUB_TOKEN: TOKEN };
const headers = { authorization: `Bearer ${TOKEN}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };
const json = { ...headers, 'content-type': 'application/json' };
const repo = { owner: 'octocat', repo: 'Hello-World' };

const user = { login: 'octocat', id: 1, type: 'User', site_admin: false };
const issue = {
  id: 1,
  node_id: 'MDU6SXNzdWUx',
  url: 'https://api.github.com/repos/octocat/Hello-World/issues/1347',
  html_url: 'https://github.com/octocat/Hello-World/issues/1347',
  number: 1347,
  state: 'open',
  title: 'Found a bug',
  body: "I'm having a problem with this.",
  user,
  labels: [{ id: 208045946, name: 'bug', color: 'f29513', default: true }],
  comments: 0,
  created_at: '2011-04-22T13:33:48Z',
  updated_at: '2011-04-22T13:33:48Z',
};
const comment = {
  id: 1,
  url: 'https://api.github.com/repos/octocat/Hello-World/issues/comments/1',
  html_url: 'https://github.com/octocat/Hello-World/issues/1347#issuecomment-1',
  body: 'Me too',
  user,
  created_at: '2011-04-14T16:00:49Z',
  author_association: 'COLLABORATOR',
};
const pull = {
  id: 1,
  number: 1347,
  state: 'open',
  title: 'Amazing new feature',
  user,
  draft: false,
  head: { label: 'octocat:new-topic', ref: 'new-topic', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' },
  base: { label: 'octocat:master', ref: 'master', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' },
};

export const cases: RecipeCase[] = [
  {
    recipe: 'list-issues',
    params: repo,
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/issues', query: { state: 'open', sort: 'created', per_page: '30', page: '1' }, headers },
    respond: { body: [issue] },
  },
  {
    recipe: 'list-issues',
    name: 'labels with a space, page 2',
    params: { ...repo, labels: 'bug,good first issue', state: 'all', page: '2', per_page: '50' },
    secrets,
    expect: {
      method: 'GET',
      path: '/repos/octocat/Hello-World/issues',
      query: { state: 'all', sort: 'created', per_page: '50', page: '2', labels: 'bug,good first issue' },
      headers,
    },
    respond: { body: [] },
  },
  {
    recipe: 'get-issue',
    params: { ...repo, number: '1347' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/issues/1347', headers },
    respond: { body: issue },
  },
  {
    recipe: 'get-issue',
    name: 'not found',
    params: { ...repo, number: '9' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/issues/9', headers },
    respond: { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#get-an-issue', status: '404' } },
  },
  {
    recipe: 'list-issue-comments',
    params: { ...repo, number: '1347', per_page: '100' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/issues/1347/comments', query: { per_page: '100', page: '1' }, headers },
    respond: { body: [comment] },
  },
  {
    recipe: 'search-issues',
    params: { q: 'repo:octocat/Hello-World is:open label:"good first issue" windows&linux' },
    secrets,
    expect: {
      method: 'GET',
      path: '/search/issues',
      query: { q: 'repo:octocat/Hello-World is:open label:"good first issue" windows&linux', per_page: '30', page: '1' },
      headers,
    },
    respond: { body: { total_count: 1, incomplete_results: false, items: [{ ...issue, score: 1 }] } },
  },
  {
    recipe: 'list-pulls',
    params: { ...repo, base: 'release/2.x' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/pulls', query: { state: 'open', per_page: '30', page: '1', base: 'release/2.x' }, headers },
    respond: { body: [pull] },
  },
  {
    recipe: 'get-pull',
    params: { ...repo, number: '1347' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/pulls/1347', headers },
    respond: { body: { ...pull, mergeable: true, mergeable_state: 'clean', commits: 3, additions: 100, deletions: 3, changed_files: 5 } },
  },
  {
    recipe: 'get-repo',
    params: repo,
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World', headers },
    respond: {
      body: { id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', name: 'Hello-World', full_name: 'octocat/Hello-World', owner: user, private: false, default_branch: 'master', visibility: 'public', open_issues_count: 0 },
    },
  },
  {
    recipe: 'list-workflow-runs',
    params: { ...repo, branch: 'main', status: 'failure', per_page: '5' },
    secrets,
    expect: { method: 'GET', path: '/repos/octocat/Hello-World/actions/runs', query: { per_page: '5', page: '1', branch: 'main', status: 'failure' }, headers },
    respond: {
      body: {
        total_count: 1,
        workflow_runs: [{ id: 30433642, name: 'Build', head_branch: 'main', head_sha: 'acb5820ced9479c074f688cc328bf03f341a511d', event: 'push', status: 'completed', conclusion: 'failure', run_number: 562, workflow_id: 159038 }],
      },
    },
  },
  {
    recipe: 'create-issue-comment',
    name: 'a body with quotes, backslashes and Markdown stays one JSON string',
    params: { ...repo, number: '1347', body: 'Me too: `"}` and C:\\path, "quoted", {"admin": true}' },
    secrets,
    expect: {
      method: 'POST',
      path: '/repos/octocat/Hello-World/issues/1347/comments',
      body: { body: 'Me too: `"}` and C:\\path, "quoted", {"admin": true}' },
      headers: json,
    },
    respond: { status: 201, body: comment },
  },
  {
    recipe: 'create-issue',
    params: { ...repo, title: 'Found a bug', body: "I'm having a problem with this." },
    secrets,
    expect: { method: 'POST', path: '/repos/octocat/Hello-World/issues', body: { title: 'Found a bug', body: "I'm having a problem with this." }, headers: json },
    respond: { status: 201, body: issue },
  },
  {
    recipe: 'create-issue',
    name: 'without a body: JSON null',
    params: { ...repo, title: 'Found a bug' },
    secrets,
    expect: { method: 'POST', path: '/repos/octocat/Hello-World/issues', body: { title: 'Found a bug', body: null }, headers: json },
    respond: { status: 201, body: { ...issue, body: null } },
  },
  {
    recipe: 'merge-pull',
    params: { ...repo, number: '1347', sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e' },
    secrets,
    expect: {
      method: 'PUT',
      path: '/repos/octocat/Hello-World/pulls/1347/merge',
      body: { sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', merge_method: 'squash' },
      headers: json,
    },
    respond: { body: { sha: '6dcb09b5b57875f334f61aebed695e2e4193db5e', merged: true, message: 'Pull Request successfully merged' } },
  },
  {
    recipe: 'merge-pull',
    name: 'the head moved: 409, exit 22',
    params: { ...repo, number: '1347', sha: '0000000000000000000000000000000000000000', merge_method: 'rebase' },
    secrets,
    expect: {
      method: 'PUT',
      path: '/repos/octocat/Hello-World/pulls/1347/merge',
      body: { sha: '0000000000000000000000000000000000000000', merge_method: 'rebase' },
      headers: json,
    },
    respond: { status: 409, body: { message: 'Head branch was modified. Review and try the merge again.', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request', status: '409' } },
  },
];
