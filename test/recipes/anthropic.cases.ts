import type { RecipeCase } from './harness.js';

// Shapes from docs.anthropic.com/en/api (models, messages, count_tokens), trimmed. Every request carries
// x-api-key and anthropic-version: 2023-06-01, as Anthropic documents.
const KEY = 'sk-ant-api03-PlantedRecipeTestKey_0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHAA';
const secrets = { ANTHROPIC_API_KEY: KEY };
const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const json = { ...headers, 'content-type': 'application/json' };
const model = { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' };

export const cases: RecipeCase[] = [
  {
    recipe: 'list-models',
    secrets,
    expect: { method: 'GET', path: '/v1/models', query: { limit: '20' }, headers },
    respond: { body: { data: [model], has_more: true, first_id: model.id, last_id: model.id } },
  },
  {
    recipe: 'list-models',
    name: 'next page',
    params: { after_id: 'claude-sonnet-4-5-20250929', limit: '5' },
    secrets,
    expect: { method: 'GET', path: '/v1/models', query: { limit: '5', after_id: 'claude-sonnet-4-5-20250929' }, headers },
    respond: { body: { data: [], has_more: false, first_id: null, last_id: null } },
  },
  {
    recipe: 'get-model',
    params: { model: 'claude-sonnet-4-5' },
    secrets,
    expect: { method: 'GET', path: '/v1/models/claude-sonnet-4-5', headers },
    respond: { body: model },
  },
  {
    recipe: 'create-message',
    params: { message: 'Hello, Claude. Reply with {"ok": true}' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/messages',
      body: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, Claude. Reply with {"ok": true}' }] },
      headers: json,
    },
    respond: {
      body: {
        id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 2095, output_tokens: 503 },
      },
    },
  },
  {
    recipe: 'create-message',
    name: 'overloaded: the error JSON, exit 22',
    params: { message: 'Hi', max_tokens: '64', model: 'claude-haiku-4-5' },
    secrets,
    expect: { method: 'POST', path: '/v1/messages', body: { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }, headers: json },
    respond: { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
  },
  {
    recipe: 'count-tokens',
    params: { message: 'Hello, world' },
    secrets,
    expect: { method: 'POST', path: '/v1/messages/count_tokens', body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello, world' }] }, headers: json },
    respond: { body: { input_tokens: 2095 } },
  },
];
