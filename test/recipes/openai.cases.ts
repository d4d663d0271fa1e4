import type { RecipeCase } from './harness.js';

// Shapes from platform.openai.com/docs/api-reference (models, responses, chat, embeddings), trimmed.
const KEY = 'sk-proj-PlantedRecipeTestKey_0123456789abcdefghijklmnopqrstuvwxyzABCD';
const secrets = { OPENAI_API_KEY: KEY };
const headers = { authorization: `Bearer ${KEY}` };
const json = { ...headers, 'content-type': 'application/json' };
const model = { id: 'gpt-4.1-mini', object: 'model', created: 1686935002, owned_by: 'openai' };
const usage = { input_tokens: 36, output_tokens: 87, total_tokens: 123 };

export const cases: RecipeCase[] = [
  {
    recipe: 'list-models',
    secrets,
    expect: { method: 'GET', path: '/v1/models', headers },
    respond: { body: { object: 'list', data: [model, { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' }] } },
  },
  {
    recipe: 'get-model',
    params: { model: 'gpt-4.1-mini' },
    secrets,
    expect: { method: 'GET', path: '/v1/models/gpt-4.1-mini', headers },
    respond: { body: model },
  },
  {
    recipe: 'get-model',
    name: 'unknown model: the error JSON, exit 22',
    params: { model: 'no-such-model' },
    secrets,
    expect: { method: 'GET', path: '/v1/models/no-such-model', headers },
    respond: { status: 404, body: { error: { message: "The model 'no-such-model' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } } },
  },
  {
    recipe: 'create-response',
    params: { input: 'Tell me a three sentence bedtime story about a unicorn. Use "quotes".' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/responses',
      body: { model: 'gpt-4.1-mini', input: 'Tell me a three sentence bedtime story about a unicorn. Use "quotes".', instructions: null, max_output_tokens: 1024, store: false },
      headers: json,
    },
    respond: {
      body: {
        id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
        object: 'response',
        created_at: 1741476542,
        status: 'completed',
        model: 'gpt-4.1-2025-04-14',
        output: [{ type: 'message', id: 'msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'In a peaceful grove...', annotations: [] }] }],
        usage,
      },
    },
  },
  {
    recipe: 'create-response',
    name: 'with instructions and a token limit',
    params: { model: 'gpt-4.1', input: 'Summarise', instructions: 'Answer in French.', max_output_tokens: '200' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/responses',
      body: { model: 'gpt-4.1', input: 'Summarise', instructions: 'Answer in French.', max_output_tokens: 200, store: false },
      headers: json,
    },
    respond: { body: { id: 'resp_1', object: 'response', status: 'completed', output: [], usage } },
  },
  {
    recipe: 'create-chat-completion',
    params: { message: 'Hello!' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hello!' }], max_completion_tokens: 1024, store: false },
      headers: json,
    },
    respond: {
      body: {
        id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
        object: 'chat.completion',
        created: 1741569952,
        model: 'gpt-4.1-2025-04-14',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
      },
    },
  },
  {
    recipe: 'create-embedding',
    params: { input: 'The food was delicious and the waiter...' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: 'The food was delicious and the waiter...', encoding_format: 'float' },
      headers: json,
    },
    respond: { body: { object: 'list', data: [{ object: 'embedding', embedding: [0.0023064255, -0.009327292, -0.0028842222], index: 0 }], model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } } },
  },
];
