import type { RecipeCase } from './harness.js';

// Shapes from https://developers.hubspot.com/docs/api-reference/crm-contacts-v3 (list, read, search),
// crm-companies-v3 and crm-notes-v3 (create), trimmed.
const TOKEN = 'pat-na1-7c2e5b1a-0d4f-4e3b-9a8c-PlantedHubspotToken0';
const secrets = { HUBSPOT_TOKEN: TOKEN };
const auth = { authorization: `Bearer ${TOKEN}` };
const jsonAuth = { ...auth, 'content-type': 'application/json' };

const contact = {
  id: '512',
  properties: {
    createdate: '2019-10-30T03:30:17.883Z',
    email: 'bcooper@biglytics.net',
    firstname: 'Bryan',
    hs_object_id: '512',
    lastmodifieddate: '2019-12-07T16:50:06.678Z',
    lastname: 'Cooper',
  },
  createdAt: '2019-10-30T03:30:17.883Z',
  updatedAt: '2019-12-07T16:50:06.678Z',
  archived: false,
};
const company = {
  id: '4611',
  properties: { createdate: '2019-10-30T03:30:17.883Z', domain: 'biglytics.net', hs_object_id: '4611', name: 'Biglytics', lastmodifieddate: '2019-12-07T16:50:06.678Z' },
  createdAt: '2019-10-30T03:30:17.883Z',
  updatedAt: '2019-12-07T16:50:06.678Z',
  archived: false,
};
const paged = (results: unknown[]) => ({ results, paging: { next: { after: 'NTI1Cg%3D%3D', link: '?after=NTI1Cg%3D%3D' } } });

export const cases: RecipeCase[] = [
  {
    recipe: 'list-contacts',
    name: 'defaults',
    secrets,
    expect: { method: 'GET', path: '/crm/v3/objects/contacts', query: { limit: '10' }, headers: auth },
    respond: { body: paged([contact]) },
  },
  {
    recipe: 'list-contacts',
    name: 'next page, chosen properties',
    params: { limit: '100', after: 'NTI1Cg%3D%3D', properties: 'email,firstname,lastname,lifecyclestage' },
    secrets,
    expect: {
      method: 'GET',
      path: '/crm/v3/objects/contacts',
      query: { limit: '100', after: 'NTI1Cg==', properties: 'email,firstname,lastname,lifecyclestage' },
      headers: auth,
    },
    respond: { body: { results: [contact] } },
  },
  {
    recipe: 'get-contact',
    params: { id: '512', properties: 'email,phone' },
    secrets,
    expect: { method: 'GET', path: '/crm/v3/objects/contacts/512', query: { properties: 'email,phone' }, headers: auth },
    respond: { body: contact },
  },
  {
    recipe: 'get-contact',
    name: 'missing: the error JSON is printed, exit 22',
    params: { id: '999' },
    secrets,
    expect: { method: 'GET', path: '/crm/v3/objects/contacts/999', headers: auth },
    respond: {
      status: 404,
      body: { status: 'error', message: 'resource not found', correlationId: 'aeb5f871-7f07-4993-9211-075dc63e7cbf', category: 'OBJECT_NOT_FOUND' },
    },
  },
  {
    recipe: 'search-contacts',
    params: { query: 'cooper "biglytics"', limit: '5', after: '5' },
    secrets,
    expect: { method: 'POST', path: '/crm/v3/objects/contacts/search', body: { query: 'cooper "biglytics"', limit: 5, after: '5' }, headers: jsonAuth },
    respond: { body: { total: 1, results: [contact] } },
  },
  {
    recipe: 'list-companies',
    secrets,
    expect: { method: 'GET', path: '/crm/v3/objects/companies', query: { limit: '10' }, headers: auth },
    respond: { body: paged([company]) },
  },
  {
    recipe: 'get-company',
    params: { id: '4611' },
    secrets,
    expect: { method: 'GET', path: '/crm/v3/objects/companies/4611', headers: auth },
    respond: { body: company },
  },
  {
    recipe: 'create-note',
    params: { contact: '512', body: 'Called Bryan: "wants a demo" <b>Tuesday</b>', timestamp: '2026-11-24T09:30:00Z' },
    secrets,
    expect: {
      method: 'POST',
      path: '/crm/v3/objects/notes',
      body: {
        properties: { hs_timestamp: '2026-11-24T09:30:00Z', hs_note_body: 'Called Bryan: "wants a demo" <b>Tuesday</b>' },
        associations: [{ to: { id: '512' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }],
      },
      headers: jsonAuth,
    },
    respond: {
      status: 201,
      body: {
        id: '9178405921',
        properties: { hs_createdate: '2026-11-24T09:30:01.214Z', hs_note_body: 'Called Bryan: "wants a demo" <b>Tuesday</b>', hs_object_id: '9178405921', hs_timestamp: '2026-11-24T09:30:00Z' },
        createdAt: '2026-11-24T09:30:01.214Z',
        updatedAt: '2026-11-24T09:30:01.214Z',
        archived: false,
      },
    },
  },
  {
    recipe: 'update-contact',
    params: { id: '512', property: 'lifecyclestage', value: 'customer' },
    secrets,
    expect: { method: 'PATCH', path: '/crm/v3/objects/contacts/512', body: { properties: { lifecyclestage: 'customer' } }, headers: jsonAuth },
    respond: { body: { ...contact, properties: { ...contact.properties, lifecyclestage: 'customer' } } },
  },
];
