import type { RecipeCase } from './harness.js';

// Shapes from https://www.twilio.com/docs/sendgrid/api-reference: mail-send (202, empty body),
// transactional-templates/retrieve-paged-transactional-templates, stats/retrieve-global-email-statistics.
const KEY = 'SG.PlantedSendgridKeyId0.PlantedSendgridSecretPart0000000000000000000';
const secrets = { SENDGRID_API_KEY: KEY };
const auth = { authorization: `Bearer ${KEY}` };
const jsonAuth = { ...auth, 'content-type': 'application/json' };

const metrics = (requests: number) => ({
  blocks: 0,
  bounce_drops: 0,
  bounces: 0,
  clicks: 3,
  deferred: 0,
  delivered: requests,
  invalid_emails: 0,
  opens: 5,
  processed: requests,
  requests,
  spam_report_drops: 0,
  spam_reports: 0,
  unique_clicks: 2,
  unique_opens: 4,
  unsubscribe_drops: 0,
  unsubscribes: 0,
});

export const cases: RecipeCase[] = [
  {
    recipe: 'send-mail',
    name: 'plain text, sender name',
    params: {
      to: 'jane.doe@example.com',
      from: 'support@example.org',
      from_name: 'Example "Support"',
      subject: 'Your ticket #4211 & next steps',
      // (no tab: control characters, tab included, are refused in every parameter)
      text: 'Hi Jane, thanks: we "fixed" it \\o/',
    },
    secrets,
    expect: {
      method: 'POST',
      path: '/v3/mail/send',
      body: {
        personalizations: [{ to: [{ email: 'jane.doe@example.com' }] }],
        from: { email: 'support@example.org', name: 'Example "Support"' },
        subject: 'Your ticket #4211 & next steps',
        content: [{ type: 'text/plain', value: 'Hi Jane, thanks: we "fixed" it \\o/' }],
      },
      headers: jsonAuth,
    },
    respond: { status: 202, body: '' },
  },
  {
    recipe: 'send-mail',
    name: 'unverified sender: the error JSON is printed, exit 22',
    params: { to: 'jane.doe@example.com', from: 'nobody@example.net', subject: 'Hello', text: 'Hello' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v3/mail/send',
      body: {
        personalizations: [{ to: [{ email: 'jane.doe@example.com' }] }],
        from: { email: 'nobody@example.net' },
        subject: 'Hello',
        content: [{ type: 'text/plain', value: 'Hello' }],
      },
      headers: jsonAuth,
    },
    respond: {
      status: 403,
      body: { errors: [{ message: 'The from address does not match a verified Sender Identity.', field: 'from', help: null }] },
    },
  },
  {
    recipe: 'list-templates',
    params: { limit: '2', page_token: 'MTY5NjAzNTQ' },
    secrets,
    expect: { method: 'GET', path: '/v3/templates', query: { generations: 'dynamic', page_size: '2', page_token: 'MTY5NjAzNTQ' }, headers: auth },
    respond: {
      body: {
        result: [
          {
            id: 'd-c6dcf1f72bdd4beeb15a9aa6c72fcd2c',
            name: 'Ticket update',
            generation: 'dynamic',
            updated_at: '2026-10-01 18:56:33',
            versions: [{ id: '8aefe0ee-f12b-4575-b5b7-c97e21cb36f3', template_id: 'd-c6dcf1f72bdd4beeb15a9aa6c72fcd2c', active: 1, name: 'v1', updated_at: '2026-10-01 18:56:33', editor: 'code' }],
          },
        ],
        _metadata: { self: 'https://api.sendgrid.com/v3/templates?page_token=MTY5NjAzNTQ', count: 1 },
      },
    },
  },
  {
    recipe: 'get-stats',
    params: { start_date: '2026-11-01', end_date: '2026-11-02', aggregated_by: 'day' },
    secrets,
    expect: { method: 'GET', path: '/v3/stats', query: { start_date: '2026-11-01', end_date: '2026-11-02', aggregated_by: 'day' }, headers: auth },
    respond: {
      body: [
        { date: '2026-11-01', stats: [{ metrics: metrics(12) }] },
        { date: '2026-11-02', stats: [{ metrics: metrics(7) }] },
      ],
    },
  },
];
