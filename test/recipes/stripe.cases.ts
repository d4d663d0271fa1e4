import type { RecipeCase } from './harness.js';

// Request and response shapes from the Stripe API reference (docs.stripe.com/api): list endpoints answer
// { object: "list", url, has_more, data }; errors { error: { type, code, message, param } }. Trimmed examples.
const KEY = 'rk_test_51PlantedRestrictedKeyForTheRecipeTests0001';
const secrets = { STRIPE_KEY: KEY };
const auth = { authorization: `Bearer ${KEY}` };
const form = { ...auth, 'content-type': 'application/x-www-form-urlencoded' };

const invoice = {
  id: 'in_1MtHbELkdIwHu7ixl4OzzPMv',
  object: 'invoice',
  account_country: 'US',
  amount_due: 999,
  amount_paid: 0,
  currency: 'usd',
  customer: 'cus_NeZwdNtLEOXuvB',
  hosted_invoice_url: null,
  status: 'open',
  livemode: false,
};
const customer = { id: 'cus_NffrFeUfNV2Hib', object: 'customer', email: 'jennyrosen@example.com', name: 'Jenny Rosen', created: 1680893993, livemode: false };
const charge = { id: 'ch_3MmlLrLkdIwHu7ix0snN0B15', object: 'charge', amount: 1099, amount_refunded: 0, currency: 'usd', customer: null, paid: true, status: 'succeeded' };
const subscription = { id: 'sub_1MowQVLkdIwHu7ixeRlqHVzs', object: 'subscription', customer: 'cus_Na6dX7aXxi11N4', status: 'active', cancel_at_period_end: false };
const list = (data: unknown[], url: string, has_more = false) => ({ object: 'list', url, has_more, data });

export const cases: RecipeCase[] = [
  {
    recipe: 'list-invoices',
    name: 'defaults: no empty optional parameters are sent',
    secrets,
    expect: { method: 'GET', path: '/v1/invoices', query: { limit: '10' }, headers: auth },
    respond: { body: list([invoice], '/v1/invoices', true) },
  },
  {
    recipe: 'list-invoices',
    name: 'filtered and paged',
    params: { limit: '2', customer: 'cus_NeZwdNtLEOXuvB', status: 'open', starting_after: 'in_1MtHbELkdIwHu7ixl4OzzPMv' },
    secrets,
    expect: {
      method: 'GET',
      path: '/v1/invoices',
      query: { limit: '2', customer: 'cus_NeZwdNtLEOXuvB', status: 'open', starting_after: 'in_1MtHbELkdIwHu7ixl4OzzPMv' },
      headers: auth,
    },
    respond: { body: list([], '/v1/invoices') },
  },
  {
    recipe: 'list-customer-invoices',
    params: { customer: 'cus_NeZwdNtLEOXuvB', limit: '3' },
    secrets,
    expect: { method: 'GET', path: '/v1/invoices', query: { customer: 'cus_NeZwdNtLEOXuvB', limit: '3' }, headers: auth },
    respond: { body: list([invoice], '/v1/invoices') },
  },
  {
    recipe: 'get-invoice',
    params: { id: 'in_1MtHbELkdIwHu7ixl4OzzPMv' },
    secrets,
    expect: { method: 'GET', path: '/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv', headers: auth },
    respond: { body: invoice },
  },
  {
    recipe: 'get-invoice',
    name: 'not found: the error JSON is printed, exit 22',
    params: { id: 'in_doesnotexist' },
    secrets,
    expect: { method: 'GET', path: '/v1/invoices/in_doesnotexist', headers: auth },
    respond: {
      status: 404,
      body: { error: { code: 'resource_missing', doc_url: 'https://stripe.com/docs/error-codes/resource-missing', message: "No such invoice: 'in_doesnotexist'", param: 'invoice', type: 'invalid_request_error' } },
    },
  },
  {
    recipe: 'list-customers',
    params: { email: 'jennyrosen@example.com' },
    secrets,
    expect: { method: 'GET', path: '/v1/customers', query: { limit: '10', email: 'jennyrosen@example.com' }, headers: auth },
    respond: { body: list([customer], '/v1/customers') },
  },
  {
    recipe: 'get-customer',
    params: { id: 'cus_NffrFeUfNV2Hib' },
    secrets,
    expect: { method: 'GET', path: '/v1/customers/cus_NffrFeUfNV2Hib', headers: auth },
    respond: { body: customer },
  },
  {
    recipe: 'get-balance',
    secrets,
    expect: { method: 'GET', path: '/v1/balance', headers: auth },
    respond: {
      body: {
        object: 'balance',
        available: [{ amount: 666670, currency: 'usd', source_types: { card: 666670 } }],
        connect_reserved: [{ amount: 0, currency: 'usd' }],
        livemode: false,
        pending: [{ amount: 61414, currency: 'usd', source_types: { card: 61414 } }],
      },
    },
  },
  {
    recipe: 'list-charges',
    params: { payment_intent: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', limit: '1' },
    secrets,
    expect: { method: 'GET', path: '/v1/charges', query: { limit: '1', payment_intent: 'pi_3MtwBwLkdIwHu7ix28a3tqPa' }, headers: auth },
    respond: { body: list([charge], '/v1/charges') },
  },
  {
    recipe: 'list-subscriptions',
    params: { status: 'past_due', starting_after: 'sub_1MowQVLkdIwHu7ixeRlqHVzs' },
    secrets,
    expect: { method: 'GET', path: '/v1/subscriptions', query: { limit: '10', status: 'past_due', starting_after: 'sub_1MowQVLkdIwHu7ixeRlqHVzs' }, headers: auth },
    respond: { body: list([subscription], '/v1/subscriptions') },
  },
  {
    recipe: 'create-refund',
    name: 'full refund',
    params: { payment_intent: 'pi_Aabcxyz01aDfoo' },
    secrets,
    expect: { method: 'POST', path: '/v1/refunds', body: { payment_intent: 'pi_Aabcxyz01aDfoo' }, headers: form },
    respond: { body: { id: 're_1Nispe2eZvKYlo2Cd31jOCgZ', object: 'refund', amount: 1000, charge: 'ch_1NirD82eZvKYlo2CIvbtLWuY', currency: 'usd', payment_intent: 'pi_Aabcxyz01aDfoo', reason: null, status: 'succeeded' } },
  },
  {
    recipe: 'create-refund',
    name: 'partial, with a reason and an idempotency key',
    params: { payment_intent: 'pi_Aabcxyz01aDfoo', amount: '250', reason: 'requested_by_customer', idempotency_key: 'refund-order-8812' },
    secrets,
    expect: {
      method: 'POST',
      path: '/v1/refunds',
      body: { payment_intent: 'pi_Aabcxyz01aDfoo', amount: '250', reason: 'requested_by_customer' },
      headers: { ...form, 'idempotency-key': 'refund-order-8812' },
    },
    respond: { body: { id: 're_1Nispe2eZvKYlo2Cd31jOCgZ', object: 'refund', amount: 250, currency: 'usd', payment_intent: 'pi_Aabcxyz01aDfoo', reason: 'requested_by_customer', status: 'succeeded' } },
  },
  {
    recipe: 'send-invoice',
    params: { id: 'in_1MtHbELkdIwHu7ixl4OzzPMv' },
    secrets,
    expect: { method: 'POST', path: '/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv/send', headers: auth },
    respond: { body: { ...invoice, status: 'open' } },
  },
  {
    recipe: 'cancel-subscription',
    params: { id: 'sub_1MowQVLkdIwHu7ixeRlqHVzs' },
    secrets,
    expect: { method: 'DELETE', path: '/v1/subscriptions/sub_1MowQVLkdIwHu7ixeRlqHVzs', headers: auth },
    respond: { body: { ...subscription, status: 'canceled', canceled_at: 1680896283, ended_at: 1680896283 } },
  },
];
