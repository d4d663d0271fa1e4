import type { RecipeCase } from './harness.js';

// Shapes from https://www.twilio.com/docs/messaging/api/message-resource (create, fetch, read), trimmed.
const ACCOUNT = 'ACa1b2c3d4e5f60718293a4b5c6d7e8f90';
const TOKEN = '5f4dcc3b5aa765d61d8327deb882cf99';
const secrets = { TWILIO_AUTH_TOKEN: TOKEN };
const basic = { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}` };
const SID = 'SM1f0e8ae6ade43cb3c0ce4525424e404f';
const base = `/2010-04-01/Accounts/${ACCOUNT}`;

const message = {
  account_sid: ACCOUNT,
  api_version: '2010-04-01',
  body: 'Your order #4211 shipped & arrives Tuesday',
  date_created: 'Mon, 23 Nov 2026 21:03:14 +0000',
  date_sent: 'Mon, 23 Nov 2026 21:03:15 +0000',
  date_updated: 'Mon, 23 Nov 2026 21:03:16 +0000',
  direction: 'outbound-api',
  error_code: null,
  error_message: null,
  from: '+14155552345',
  messaging_service_sid: null,
  num_media: '0',
  num_segments: '1',
  price: '-0.00790',
  price_unit: 'USD',
  sid: SID,
  status: 'delivered',
  subresource_uris: { media: `${base}/Messages/${SID}/Media.json` },
  to: '+15558675310',
  uri: `${base}/Messages/${SID}.json`,
};
const page = (messages: unknown[], next: string | null) => ({
  end: messages.length - 1,
  first_page_uri: `${base}/Messages.json?PageSize=2&Page=0`,
  next_page_uri: next,
  page: 0,
  page_size: 2,
  previous_page_uri: null,
  messages,
  start: 0,
  uri: `${base}/Messages.json?PageSize=2&Page=0`,
});

export const cases: RecipeCase[] = [
  {
    recipe: 'list-messages',
    name: 'defaults',
    params: { account: ACCOUNT },
    secrets,
    expect: { method: 'GET', path: `${base}/Messages.json`, query: { PageSize: '20' }, headers: basic },
    respond: { body: page([message], `${base}/Messages.json?PageSize=20&Page=1&PageToken=PASM1f0e8ae6ade43cb3c0ce4525424e404f`) },
  },
  {
    recipe: 'list-messages',
    name: 'filtered, next page',
    params: { account: ACCOUNT, limit: '2', to: '+15558675310', from: '+14155552345', date: '2026-11-23', page: '1', page_token: 'PASM1f0e8ae6ade43cb3c0ce4525424e404f' },
    secrets,
    expect: {
      method: 'GET',
      path: `${base}/Messages.json`,
      query: { PageSize: '2', To: '+15558675310', From: '+14155552345', DateSent: '2026-11-23', Page: '1', PageToken: 'PASM1f0e8ae6ade43cb3c0ce4525424e404f' },
      headers: basic,
    },
    respond: { body: page([message], null) },
  },
  {
    recipe: 'get-message',
    params: { account: ACCOUNT, sid: SID },
    secrets,
    expect: { method: 'GET', path: `${base}/Messages/${SID}.json`, headers: basic },
    respond: { body: message },
  },
  {
    recipe: 'get-message',
    name: 'wrong credentials: the error JSON is printed, exit 22',
    params: { account: ACCOUNT, sid: SID },
    secrets,
    expect: { method: 'GET', path: `${base}/Messages/${SID}.json`, headers: basic },
    respond: { status: 401, body: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 } },
  },
  {
    recipe: 'send-sms',
    params: { account: ACCOUNT, to: '+15558675310', from: '+14155552345', body: 'Your order #4211 shipped & arrives Tuesday' },
    secrets,
    expect: {
      method: 'POST',
      path: `${base}/Messages.json`,
      body: { To: '+15558675310', From: '+14155552345', Body: 'Your order #4211 shipped & arrives Tuesday' },
      headers: { ...basic, 'content-type': 'application/x-www-form-urlencoded' },
    },
    respond: { status: 201, body: { ...message, status: 'queued', date_sent: null, price: null } },
  },
];
