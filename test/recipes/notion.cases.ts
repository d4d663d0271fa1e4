import type { RecipeCase } from './harness.js';

// Shapes from https://developers.notion.com/reference (version 2022-06-28): post-search,
// retrieve-a-page, retrieve-a-database, post-database-query, get-block-children, post-page (trimmed).
const TOKEN = 'ntn_41865207283aPlantedNotionTokenForRecipeTestsXyZ0';
const secrets = { NOTION_TOKEN: TOKEN };
const auth = { authorization: `Bearer ${TOKEN}`, 'notion-version': '2022-06-28' };
const jsonAuth = { ...auth, 'content-type': 'application/json' };

const PAGE_ID = '59833787-2cf9-4fdf-8782-e53db20768a5';
const DB_ID = 'd9824bdc-8445-4327-be8b-5b47500af6ce';
const CURSOR = 'fe2cc560-036c-44cd-90e8-294d5a74cebc';

const page = {
  object: 'page',
  id: PAGE_ID,
  created_time: '2022-03-01T19:05:00.000Z',
  last_edited_time: '2022-07-06T20:25:00.000Z',
  created_by: { object: 'user', id: 'ee5f0f84-409a-440f-983a-a5315961c6e4' },
  last_edited_by: { object: 'user', id: '0c3e9826-b8f7-4f73-927d-2caaf86f1103' },
  cover: null,
  icon: { type: 'emoji', emoji: '🥬' },
  parent: { type: 'database_id', database_id: DB_ID },
  archived: false,
  properties: {
    Name: {
      id: 'title',
      type: 'title',
      title: [
        {
          type: 'text',
          text: { content: 'Tuscan kale', link: null },
          annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' },
          plain_text: 'Tuscan kale',
          href: null,
        },
      ],
    },
  },
  url: 'https://www.notion.so/Tuscan-kale-598337872cf94fdf8782e53db20768a5',
  public_url: null,
};
const database = {
  object: 'database',
  id: DB_ID,
  created_time: '2021-07-08T23:50:00.000Z',
  last_edited_time: '2022-07-06T20:25:00.000Z',
  title: [{ type: 'text', text: { content: 'Grocery List', link: null }, plain_text: 'Grocery List', href: null }],
  properties: { Name: { id: 'title', name: 'Name', type: 'title', title: {} }, 'In stock': { id: 'fk%5EY', name: 'In stock', type: 'checkbox', checkbox: {} } },
  parent: { type: 'page_id', page_id: PAGE_ID },
  archived: false,
  is_inline: false,
};
const list = (results: unknown[], next: string | null, type: string) => ({ object: 'list', results, next_cursor: next, has_more: next !== null, type, [type]: {} });
const paragraph = {
  object: 'block',
  id: 'c02fc1d3-db8b-45c5-a222-27595b15aea7',
  parent: { type: 'page_id', page_id: PAGE_ID },
  created_time: '2022-03-01T19:05:00.000Z',
  last_edited_time: '2022-03-01T19:05:00.000Z',
  has_children: false,
  archived: false,
  type: 'paragraph',
  paragraph: { rich_text: [{ type: 'text', text: { content: 'Lacinato kale is a variety of kale.', link: null }, plain_text: 'Lacinato kale is a variety of kale.', href: null }], color: 'default' },
};
const sortByEdited = { direction: 'descending', timestamp: 'last_edited_time' };

export const cases: RecipeCase[] = [
  {
    recipe: 'search',
    name: 'defaults',
    secrets,
    expect: { method: 'POST', path: '/v1/search', body: { page_size: 10, sort: sortByEdited }, headers: jsonAuth },
    respond: { body: list([page, database], null, 'page_or_database') },
  },
  {
    recipe: 'search',
    name: 'query, type and cursor',
    params: { query: 'Grocery "list" \\ 50% & more', type: 'database', limit: '5', cursor: CURSOR },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/search',
      body: { page_size: 5, sort: sortByEdited, query: 'Grocery "list" \\ 50% & more', filter: { property: 'object', value: 'database' }, start_cursor: CURSOR },
      headers: jsonAuth,
    },
    respond: { body: list([database], CURSOR, 'page_or_database') },
  },
  {
    recipe: 'get-page',
    params: { id: PAGE_ID },
    secrets,
    expect: { method: 'GET', path: `/v1/pages/${PAGE_ID}`, headers: auth },
    respond: { body: page },
  },
  {
    recipe: 'get-page',
    name: 'not shared with the integration: the error JSON is printed, exit 22',
    params: { id: '598337872cf94fdf8782e53db20768a6' },
    secrets,
    expect: { method: 'GET', path: '/v1/pages/598337872cf94fdf8782e53db20768a6', headers: auth },
    respond: {
      status: 404,
      body: {
        object: 'error',
        status: 404,
        code: 'object_not_found',
        message: 'Could not find page with ID: 59833787-2cf9-4fdf-8782-e53db20768a6. Make sure the relevant pages and databases are shared with your integration.',
      },
    },
  },
  {
    recipe: 'get-database',
    params: { id: DB_ID },
    secrets,
    expect: { method: 'GET', path: `/v1/databases/${DB_ID}`, headers: auth },
    respond: { body: database },
  },
  {
    recipe: 'query-database',
    name: 'defaults',
    params: { id: DB_ID },
    secrets,
    expect: { method: 'POST', path: `/v1/databases/${DB_ID}/query`, body: { page_size: 25 }, headers: jsonAuth },
    respond: { body: list([page], null, 'page_or_database') },
  },
  {
    recipe: 'query-database',
    name: 'sorted, next page',
    params: { id: DB_ID, limit: '2', sort: 'created_time', cursor: CURSOR },
    secrets,
    expect: {
      method: 'POST',
      path: `/v1/databases/${DB_ID}/query`,
      body: { page_size: 2, sorts: [{ timestamp: 'created_time', direction: 'descending' }], start_cursor: CURSOR },
      headers: jsonAuth,
    },
    respond: { body: list([page], null, 'page_or_database') },
  },
  {
    recipe: 'get-block-children',
    params: { id: PAGE_ID, limit: '100', cursor: CURSOR },
    secrets,
    expect: { method: 'GET', path: `/v1/blocks/${PAGE_ID}/children`, query: { page_size: '100', start_cursor: CURSOR }, headers: auth },
    respond: { body: list([paragraph], null, 'block') },
  },
  {
    recipe: 'create-page',
    name: 'under a page, title only',
    params: { parent: PAGE_ID, title: 'Weekly notes: "draft" \\ v2' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/pages',
      body: {
        parent: { page_id: PAGE_ID },
        properties: { title: { title: [{ type: 'text', text: { content: 'Weekly notes: "draft" \\ v2' } }] } },
      },
      headers: jsonAuth,
    },
    respond: { body: { ...page, parent: { type: 'page_id', page_id: PAGE_ID } } },
  },
  {
    recipe: 'create-page',
    name: 'in a database, with a paragraph',
    params: { parent: DB_ID, parent_type: 'database', title_property: 'Name', title: 'Tuscan kale', content: 'Lacinato kale is a variety of kale.' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/pages',
      body: {
        parent: { database_id: DB_ID },
        properties: { Name: { title: [{ type: 'text', text: { content: 'Tuscan kale' } }] } },
        children: [
          { object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'Lacinato kale is a variety of kale.' } }] } },
        ],
      },
      headers: jsonAuth,
    },
    respond: { body: page },
  },
];
