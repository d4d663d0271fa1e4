import { expect } from 'vitest';
import type { RecipeCase } from './harness.js';

// Linear's GraphQL API (linear.app/developers/graphql): POST /graphql with {query, variables}; a personal
// API key in Authorization without "Bearer". Responses are {"data": ...} or {"errors": [...]}, trimmed here.
const KEY = 'lin_api_PlantedRecipeTestKey0123456789abcdefghijklmnop';
const secrets = { LINEAR_API_KEY: KEY };
const headers = { authorization: KEY, 'content-type': 'application/json' };
const gql = (operation: string, variables: unknown) => ({ query: expect.stringMatching(new RegExp(`^(query|mutation) ${operation}\\b`)), variables });
const TEAM = '9cfb482a-81e3-4154-b5b9-2c805e70a02d';
const node = { id: '2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9', identifier: 'ENG-123', title: 'Fix the login bug', priority: 2, url: 'https://linear.app/acme/issue/ENG-123/fix-the-login-bug', updatedAt: '2024-05-01T10:00:00.000Z', state: { name: 'In Progress', type: 'started' }, assignee: { name: 'Ada' }, team: { key: 'ENG' } };
const page = (nodes: unknown[]) => ({ nodes, pageInfo: { hasNextPage: false, endCursor: 'e6a0d4b3-3f6b-4f1b-9c0e-0d2f9b3c1a22' } });

export const cases: RecipeCase[] = [
  {
    recipe: 'list-issues',
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('Issues', { first: 25, after: null }), headers },
    respond: { body: { data: { issues: page([node]) } } },
  },
  {
    recipe: 'list-issues',
    name: 'next page',
    params: { first: '50', after: 'e6a0d4b3-3f6b-4f1b-9c0e-0d2f9b3c1a22' },
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('Issues', { first: 50, after: 'e6a0d4b3-3f6b-4f1b-9c0e-0d2f9b3c1a22' }), headers },
    respond: { body: { data: { issues: page([]) } } },
  },
  {
    recipe: 'list-team-issues',
    params: { team: 'ENG' },
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('TeamIssues', { team: 'ENG', first: 25, after: null }), headers },
    respond: { body: { data: { issues: page([node]) } } },
  },
  {
    recipe: 'list-my-issues',
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('MyIssues', { first: 25, after: null }), headers },
    respond: { body: { data: { viewer: { assignedIssues: page([node]) } } } },
  },
  {
    recipe: 'get-issue',
    params: { id: 'ENG-123' },
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('Issue', { id: 'ENG-123' }), headers },
    respond: { body: { data: { issue: { ...node, description: 'Steps to reproduce...', createdAt: '2024-04-30T09:00:00.000Z', labels: { nodes: [{ name: 'Bug' }] }, comments: { nodes: [] } } } } },
  },
  {
    recipe: 'get-issue',
    name: 'not found: GraphQL errors with HTTP 200',
    params: { id: 'ENG-999999' },
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('Issue', { id: 'ENG-999999' }), headers },
    respond: { body: { errors: [{ message: 'Entity not found: Issue', path: ['issue'], extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true } }], data: null } },
  },
  {
    recipe: 'list-teams',
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('Teams', {}), headers },
    respond: { body: { data: { teams: { nodes: [{ id: TEAM, key: 'ENG', name: 'Engineering' }] } } } },
  },
  {
    recipe: 'create-issue',
    params: { team_id: TEAM, title: 'Crash when the title has "quotes" and \\backslashes', priority: '2' },
    secrets,
    expect: {
      method: 'POST',
      path: '/graphql',
      body: gql('IssueCreate', { input: { teamId: TEAM, title: 'Crash when the title has "quotes" and \\backslashes', description: null, priority: 2 } }),
      headers,
    },
    respond: { body: { data: { issueCreate: { success: true, issue: { id: node.id, identifier: 'ENG-124', title: 'Crash', url: 'https://linear.app/acme/issue/ENG-124/crash' } } } } },
  },
  {
    recipe: 'create-comment',
    params: { issue: 'ENG-123', body: 'Fixed in `main`; "see PR" }"} ' },
    secrets,
    expect: { method: 'POST', path: '/graphql', body: gql('CommentCreate', { input: { issueId: 'ENG-123', body: 'Fixed in `main`; "see PR" }"} ' } }), headers },
    respond: { body: { data: { commentCreate: { success: true, comment: { id: '3c9a3b9e-2f1c-4f5e-9a55-5f2e1b7c0d11', url: 'https://linear.app/acme/issue/ENG-123#comment-3c9a3b9e' } } } } },
  },
];
