import type { RecipeCase } from './harness.js';

// Shapes from api.slack.com/methods (conversations.list/history/replies, users.info, chat.postMessage,
// reactions.add), trimmed. Slack reports most errors as HTTP 200 with ok: false.
const TOKEN = 'xoxb-17653672481-19874698323-PlantedRecipeTestBot0123';
const secrets = { SLACK_TOKEN: TOKEN };
const headers = { authorization: `Bearer ${TOKEN}` };
const json = { ...headers, 'content-type': 'application/json; charset=utf-8' };

const channel = { id: 'C012AB3CD', name: 'general', is_channel: true, is_private: false, is_archived: false, is_member: true, num_members: 4 };
const message = { type: 'message', user: 'U012AB3CDE', text: 'I find you punny and would like to smell your nose letter', ts: '1512085950.000216' };

export const cases: RecipeCase[] = [
  {
    recipe: 'list-conversations',
    secrets,
    expect: { method: 'GET', path: '/api/conversations.list', query: { types: 'public_channel', exclude_archived: 'true', limit: '100' }, headers },
    respond: { body: { ok: true, channels: [channel], response_metadata: { next_cursor: 'dGVhbTpDMDYxRkE1UEI=' } } },
  },
  {
    recipe: 'list-conversations',
    name: 'second page of public and private channels',
    params: { types: 'public_channel,private_channel', cursor: 'dGVhbTpDMDYxRkE1UEI=', limit: '200' },
    secrets,
    expect: {
      method: 'GET',
      path: '/api/conversations.list',
      query: { types: 'public_channel,private_channel', exclude_archived: 'true', limit: '200', cursor: 'dGVhbTpDMDYxRkE1UEI=' },
      headers,
    },
    respond: { body: { ok: true, channels: [], response_metadata: { next_cursor: '' } } },
  },
  {
    recipe: 'conversation-history',
    params: { channel: 'C012AB3CD', oldest: '1512085950.000216', limit: '10' },
    secrets,
    expect: { method: 'GET', path: '/api/conversations.history', query: { channel: 'C012AB3CD', limit: '10', oldest: '1512085950.000216' }, headers },
    respond: { body: { ok: true, messages: [message], has_more: true, pin_count: 0, response_metadata: { next_cursor: 'bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz' } } },
  },
  {
    recipe: 'conversation-history',
    name: 'not in the channel: ok false',
    params: { channel: 'C012AB3CD' },
    secrets,
    expect: { method: 'GET', path: '/api/conversations.history', query: { channel: 'C012AB3CD', limit: '50' }, headers },
    respond: { body: { ok: false, error: 'not_in_channel' } },
  },
  {
    recipe: 'conversation-replies',
    params: { channel: 'C012AB3CD', ts: '1512085950.000216' },
    secrets,
    expect: { method: 'GET', path: '/api/conversations.replies', query: { channel: 'C012AB3CD', ts: '1512085950.000216', limit: '50' }, headers },
    respond: { body: { ok: true, messages: [{ ...message, thread_ts: '1512085950.000216', reply_count: 1 }], has_more: false } },
  },
  {
    recipe: 'get-user',
    params: { user: 'W012A3CDE' },
    secrets,
    expect: { method: 'GET', path: '/api/users.info', query: { user: 'W012A3CDE' }, headers },
    respond: { body: { ok: true, user: { id: 'W012A3CDE', team_id: 'T012AB3C4', name: 'spengler', real_name: 'Egon Spengler', tz: 'America/Los_Angeles', is_bot: false } } },
  },
  {
    recipe: 'post-message',
    params: { channel: 'C012AB3CD', text: 'Deploy done: *v1.2* "green" <https://ci.example.com/run/42|logs> \\o/' },
    secrets,
    expect: {
      method: 'POST',
      path: '/api/chat.postMessage',
      body: { channel: 'C012AB3CD', text: 'Deploy done: *v1.2* "green" <https://ci.example.com/run/42|logs> \\o/' },
      headers: json,
    },
    respond: { body: { ok: true, channel: 'C012AB3CD', ts: '1503435956.000247', message: { type: 'message', subtype: 'bot_message', text: 'Deploy done', ts: '1503435956.000247', bot_id: 'B123ABC456' } } },
  },
  {
    recipe: 'reply-in-thread',
    params: { channel: 'C012AB3CD', thread_ts: '1512085950.000216', text: 'On it' },
    secrets,
    expect: { method: 'POST', path: '/api/chat.postMessage', body: { channel: 'C012AB3CD', thread_ts: '1512085950.000216', text: 'On it' }, headers: json },
    respond: { body: { ok: true, channel: 'C012AB3CD', ts: '1503435957.000111', message: { type: 'message', text: 'On it', thread_ts: '1512085950.000216' } } },
  },
  {
    recipe: 'add-reaction',
    params: { channel: 'C012AB3CD', timestamp: '1512085950.000216', name: 'thumbsup' },
    secrets,
    expect: { method: 'POST', path: '/api/reactions.add', body: { channel: 'C012AB3CD', timestamp: '1512085950.000216', name: 'thumbsup' }, headers: json },
    respond: { body: { ok: true } },
  },
];
