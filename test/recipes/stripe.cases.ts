import type { RecipeCase } from './harness.js';

// Shapes from https://docs.stripe.com/api/invoices/list and /api/invoices/object (trimmed examples).
const KEY = 'rk_test_51PlantedRestrictedKeyForTheRecipeTests0001';
const auth = { authorization: `Bearer ${KEY}` };

const invoice = {
  id: 'in_1MtHbELkdIwHu7ixl4OzzPMv',
  object: 'invoice',
  account_country: 'US',
  amount_due: 0,
  amount_paid: 0,
  currency: 'usd',
  customer: 'cus_NeZwdNtLEOXuvB',
  status: 'draft',
  livemode: false,
};
const list = (data: unknown[], url: string) => ({ object: 'list', url, has_more: false, data });

export const cases: RecipeCase[] = [
  {
    recipe: 'list-invoices',
    secrets: { STRIPE_KEY: KEY },
    expect: { method: 'GET', path: '/v1/invoices', query: { limit: '10' }, headers: auth },
    respond: { body: list([invoice], '/v1/invoices') },
  },
  {
    recipe: 'list-customer-invoices',
    params: { customer: 'cus_NeZwdNtLEOXuvB', limit: '3' },
    secrets: { STRIPE_KEY: KEY },
    expect: { method: 'GET', path: '/v1/invoices', query: { customer: 'cus_NeZwdNtLEOXuvB', limit: '3' }, headers: auth },
    respond: { body: list([invoice], '/v1/invoices') },
  },
  {
    recipe: 'get-invoice',
    params: { id: 'in_1MtHbELkdIwHu7ixl4OzzPMv' },
    secrets: { STRIPE_KEY: KEY },
    expect: { method: 'GET', path: '/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv', headers: auth },
    respond: { body: invoice },
  },
  {
    recipe: 'get-invoice',
    name: 'not found: the error JSON is printed, exit 22',
    params: { id: 'in_doesnotexist' },
    secrets: { STRIPE_KEY: KEY },
    expect: { method: 'GET', path: '/v1/invoices/in_doesnotexist', headers: auth },
    respond: {
      status: 404,
      body: { error: { code: 'resource_missing', message: "No such invoice: 'in_doesnotexist'", param: 'invoice', type: 'invalid_request_error' } },
    },
  },
];
