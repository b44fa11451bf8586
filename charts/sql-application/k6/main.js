// Load script of sql-application: its traffic mix only; profiles, thresholds, checks
// and the readiness wait come from the shared library ./obi-examples.js.
//
// Mix: order reads (the hot path), order placement with Idempotency-Key (and
// deliberate retries that must replay), listings (the N+1 candidate), catalog reads,
// the sales report, expected client errors (404, 409, 422), and a few requests that
// play the SQL faults through x-fault-scenario.
//
// MIX=get-order (used by `cargo xtask bench sql-application`) only reads orders by id.

import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { check } from 'k6';
import { buildOptions, checkStatus, faultHeaders, targetUrl, waitForReady, weighted } from './obi-examples.js';

const ordersPlaced = new Counter('orders_placed');
const ordersRejected = new Counter('orders_rejected');
const replaysCorrect = new Rate('idempotent_replays_correct');
const orderValue = new Trend('order_value_cents');
const itemsPerListing = new Trend('items_per_listing');

export const options = buildOptions({
  orders_placed: ['count>0'],
  idempotent_replays_correct: ['rate>0.99'],
  'http_req_duration{name:getOrder}': ['p(95)<500'],
  'checks{kind:business}': ['rate>0.99'],
});

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const PRODUCTS = 20;
const CUSTOMERS = 10;

/**
 * @typedef {{ products: number[], customers: number[], orders: number[] }} Shop
 */

/** @param {string} path */
function url(path) {
  return `${targetUrl()}/api/v1${path}`;
}

/**
 * @param {number[]} list
 * @returns {number}
 */
function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

/** @returns {Shop} */
export function setup() {
  waitForReady();
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  /** @type {Shop} */
  const shop = { products: [], customers: [], orders: [] };
  for (let i = 0; i < PRODUCTS; i++) {
    const body = { sku: `K6-${run}-${i}`, name: `Load product ${i}`, price_cents: 100 + i * 37, stock: 1000000 };
    const res = http.post(url('/products'), JSON.stringify(body), { headers: JSON_HEADERS, tags: { name: 'createProduct' } });
    checkStatus(res, 201, 'createProduct');
    shop.products.push(Number(res.json('id')));
  }
  for (let i = 0; i < CUSTOMERS; i++) {
    const body = { email: `k6-${run}-${i}@example.com`, name: `Load customer ${i}` };
    const res = http.post(url('/customers'), JSON.stringify(body), { headers: JSON_HEADERS, tags: { name: 'createCustomer' } });
    checkStatus(res, 201, 'createCustomer');
    shop.customers.push(Number(res.json('id')));
  }
  for (let i = 0; i < 30; i++) {
    const id = placeOrder(shop, false);
    if (id) {
      shop.orders.push(id);
    }
  }
  return shop;
}

/**
 * Places an order with an Idempotency-Key; with `retry`, sends it twice and checks
 * that the second answer replays the first.
 * @param {Shop} shop
 * @param {boolean} retry
 * @returns {number | undefined}
 */
function placeOrder(shop, retry) {
  const lines = 1 + Math.floor(Math.random() * 3);
  /** @type {Record<number, number>} */
  const items = {};
  for (let i = 0; i < lines; i++) {
    items[pick(shop.products)] = 1 + Math.floor(Math.random() * 3);
  }
  const body = JSON.stringify({
    customer_id: pick(shop.customers),
    items: Object.entries(items).map(([product, quantity]) => ({ product_id: Number(product), quantity })),
  });
  const key = `k6-${__VU}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const params = { headers: Object.assign({ 'Idempotency-Key': key }, JSON_HEADERS), tags: { name: 'placeOrder' } };
  const res = http.post(url('/orders'), body, params);
  if (!checkStatus(res, 201, 'placeOrder')) {
    return undefined;
  }
  ordersPlaced.add(1);
  orderValue.add(Number(res.json('total_cents')));
  const id = Number(res.json('id'));
  if (retry) {
    const again = http.post(url('/orders'), body, params);
    const replayed = again.status === 201 && again.headers['Idempotent-Replayed'] === 'true' && Number(again.json('id')) === id;
    replaysCorrect.add(replayed);
    check(again, { 'retry replays the first order': () => replayed }, { kind: 'business' });
  }
  return id;
}

/** @param {Shop} shop */
function getOrder(shop) {
  const res = http.get(url(`/orders/${pick(shop.orders)}`), { tags: { name: 'getOrder' } });
  checkStatus(res, 200, 'getOrder');
}

/** @param {Record<string, string>} [headers] */
function listOrders(headers) {
  const res = http.get(url('/orders?limit=20'), { headers, tags: { name: 'listOrders' } });
  if (checkStatus(res, 200, 'listOrders')) {
    const orders = /** @type {Array<{items: unknown[]}>} */ (res.json('items'));
    itemsPerListing.add(orders.reduce((sum, order) => sum + order.items.length, 0));
  }
}

/** @param {Shop} shop */
function readCatalog(shop) {
  if (Math.random() < 0.5) {
    checkStatus(http.get(url(`/products/${pick(shop.products)}`), { tags: { name: 'getProduct' } }), 200, 'getProduct');
  } else {
    checkStatus(http.get(url('/products?limit=20'), { tags: { name: 'listProducts' } }), 200, 'listProducts');
  }
}

/** @param {Record<string, string>} [headers] */
function report(headers) {
  const res = http.get(url('/reports/sales?days=7&limit=10'), { headers, tags: { name: 'salesReport' } });
  checkStatus(res, 200, 'salesReport');
}

/** Client mistakes the API must answer with the right problem, not a 500. @param {Shop} shop */
function clientErrors(shop) {
  const missing = http.get(url('/orders/999999999'), {
    tags: { name: 'getOrder' },
    responseCallback: http.expectedStatuses(404),
  });
  checkStatus(missing, 404, 'missing order');
  const tooMuch = http.post(
    url('/orders'),
    JSON.stringify({ customer_id: pick(shop.customers), items: [{ product_id: pick(shop.products), quantity: 1000 }] }),
    { headers: JSON_HEADERS, tags: { name: 'placeOrder' }, responseCallback: http.expectedStatuses(201, 409) },
  );
  if (tooMuch.status === 409) {
    ordersRejected.add(1);
  }
  checkStatus(tooMuch, [201, 409], 'large order');
  const invalid = http.post(url('/orders'), JSON.stringify({ customer_id: 0, items: [] }), {
    headers: JSON_HEADERS,
    tags: { name: 'placeOrder' },
    responseCallback: http.expectedStatuses(422),
  });
  checkStatus(invalid, 422, 'invalid order');
}

/** @param {Shop} shop */
export default function (shop) {
  if (__ENV.MIX === 'get-order') {
    getOrder(shop);
    return;
  }
  const action = weighted([
    [35, () => getOrder(shop)],
    [18, () => placeOrder(shop, false)],
    [4, () => placeOrder(shop, true)],
    [15, () => listOrders()],
    [12, () => readCatalog(shop)],
    [6, () => report()],
    [6, () => clientErrors(shop)],
    [3, () => listOrders(faultHeaders({ 'x-fault-scenario': 'n_plus_one' }))],
    [1, () => report(faultHeaders({ 'x-fault-scenario': 'slow_query' }))],
  ]);
  action();
}
