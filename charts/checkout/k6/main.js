// Load script of checkout: its journey mix only; profiles, thresholds, checks and the
// readiness wait come from the shared library ./obi-examples.js.
//
// The journey needs the other five apps: their URLs are the target's with the app's
// name and port in place of checkout's (`http://<release>-checkout:8084` becomes
// `http://<release>-redis-cache:8082`; on loopback only the port changes), or
// CART_URL, ORDERS_URL, CATALOG_URL. setup() seeds sql-application (customers, and
// products with the SKUs grpc-microservice seeds: SKU-00001 ...) and http-rest-api
// (the same SKUs, for the receipts).
//
// Mix: happy checkouts (a session, a cart of 1-3 lines, a checkout), the same key
// replayed (201 with Idempotent-Replayed), out-of-stock carts (a line of the whole
// stock of one SKU: 409 once it is reserved), and abandoned carts (a cart and no
// checkout). A happy checkout may also meet a 409 out-of-stock: the inventory is
// shared, and another client (grpc-microservice's own mix reserves a whole SKU's
// stock now and then) can hold what the cart asks for; that answer is right, and its
// share is bounded. Business metrics: checkout_orders_placed, checkout_compensations
// (the reservations a failed checkout released, from its problem+json),
// checkout_out_of_stock (the share of happy checkouts that met one) and
// checkout_stage_duration by stage (session, cart, checkout, replay).

import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { check, sleep } from 'k6';
import { buildOptions, checkStatus, targetUrl, waitForReady, weighted } from './obi-examples.js';

const ordersPlaced = new Counter('checkout_orders_placed');
const compensations = new Counter('checkout_compensations');
const outOfStockShare = new Rate('checkout_out_of_stock');
const stageDuration = new Trend('checkout_stage_duration', true);

export const options = buildOptions({
  checkout_orders_placed: ['count>0'],
  checkout_out_of_stock: ['rate<0.05'],
  'http_req_duration{name:checkout}': ['p(95)<3000'],
  'checks{kind:business}': ['rate>0.99'],
});

/**
 * The JSON body of `res` (at `path`, k6's selector), untyped: the APIs' documents
 * say its shape.
 * @param {import('k6/http').RefinedResponse<any>} res @param {string} [path]
 * @returns {any}
 */
function jsonAt(res, path) {
  return path === undefined ? res.json() : res.json(path);
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const PASSWORD = __ENV.SESSION_PASSWORD || 'obi-examples';
// SKUs the journey buys (grpc-microservice seeds SKU-00001 .. SKU-01000, 1000 each).
// Nothing restocks them but grpc-microservice's own mix, a few units at a time, so
// the stock must outlast the longest profile: soak, 10 iterations/s for 2 h, of
// which 80 % order 2 lines of 1.5 units on average, is 173k units. 400 SKUs hold
// 400k; 100 (until 2026-12-03) ran dry after about 70 min and every checkout after
// that was a 409 out-of-stock.
const SKUS = 400;
// The SKU out-of-stock carts ask the whole stock of.
const SCARCE = 'SKU-01000';
const CUSTOMERS = 20;

/**
 * Base URL of `app` on `port`, from the target's.
 * @param {string} app @param {number} port @param {string} [override]
 */
function appUrl(app, port, override) {
  if (override) {
    return override.replace(/\/+$/, '');
  }
  const target = targetUrl();
  return /checkout(:\d+)?$/.test(target)
    ? target.replace(/checkout(:\d+)?$/, `${app}:${port}`)
    : target.replace(/:\d+$/, `:${port}`);
}

const CART = appUrl('redis-cache', 8082, __ENV.CART_URL);
const ORDERS = appUrl('sql-application', 8081, __ENV.ORDERS_URL);
const CATALOG = appUrl('http-rest-api', 8080, __ENV.CATALOG_URL);

/** @param {number} n @returns {string} */
function sku(n) {
  return `SKU-${String(n).padStart(5, '0')}`;
}

/** sql-application's product id of each SKU, creating the missing ones. */
function seedOrders() {
  /** @type {Record<string, number>} */
  const ids = {};
  let cursor = '';
  for (let page = 0; page < 50; page++) {
    const res = http.get(`${ORDERS}/api/v1/products?limit=100${cursor ? `&after=${cursor}` : ''}`, {
      tags: { name: 'seed' },
    });
    if (res.status !== 200) {
      break;
    }
    for (const p of jsonAt(res, 'items')) {
      ids[p.sku] = p.id;
    }
    cursor = jsonAt(res, 'next_cursor') || '';
    if (!cursor) {
      break;
    }
  }
  for (const n of [...Array(SKUS).keys()].map((i) => i + 1).concat([1000])) {
    if (ids[sku(n)]) {
      continue;
    }
    const body = { sku: sku(n), name: `Product ${n}`, price_cents: 100 + n, stock: 1000000 };
    const res = http.post(`${ORDERS}/api/v1/products`, JSON.stringify(body), {
      headers: JSON_HEADERS,
      tags: { name: 'seed' },
      responseCallback: http.expectedStatuses(201),
    });
    checkStatus(res, 201, 'seed product');
    ids[sku(n)] = jsonAt(res, 'id');
  }
  const customers = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const email = `k6-${Date.now()}-${i}@example.test`;
    const res = http.post(`${ORDERS}/api/v1/customers`, JSON.stringify({ email, name: `Shopper ${i}` }), {
      headers: JSON_HEADERS,
      tags: { name: 'seed' },
    });
    checkStatus(res, 201, 'seed customer');
    customers.push(jsonAt(res, 'id'));
  }
  return { ids, customers };
}

/**
 * The catalog entries of the SKUs (409 when one exists already). http-rest-api
 * limits each user's requests (burst 100, then 50/s by default): past the burst a
 * 429 says when to retry, and the seed waits that long, as a polite client does.
 */
function seedCatalog() {
  const login = http.post(
    `${CATALOG}/api/v1/auth/token`,
    JSON.stringify({ username: 'editor', password: __ENV.EDITOR_PASSWORD || 'editor-password' }),
    { headers: JSON_HEADERS, tags: { name: 'seed' } },
  );
  checkStatus(login, 200, 'catalog token');
  const auth = Object.assign({ Authorization: `Bearer ${jsonAt(login, 'access_token')}` }, JSON_HEADERS);
  for (let n = 1; n <= SKUS; n++) {
    const body = { sku: sku(n), name: `Product ${n}`, description: 'A thing', category: 'kitchen', price_cents: 100 + n, stock: 1000 };
    let res;
    for (let attempt = 1; ; attempt++) {
      res = http.post(`${CATALOG}/api/v1/products`, JSON.stringify(body), {
        headers: auth,
        tags: { name: 'seed' },
        responseCallback: http.expectedStatuses(201, 409, 429),
      });
      if (res.status !== 429 || attempt === 5) {
        break;
      }
      sleep(Number(res.headers['Retry-After'] || 1));
    }
    checkStatus(res, [201, 409], 'seed catalog');
  }
}

export function setup() {
  waitForReady();
  const seeded = seedOrders();
  seedCatalog();
  return seeded;
}

/**
 * A session with `lines` in its cart; returns its token.
 * @param {{ids: Record<string, number>}} data @param {Array<[string, number]>} lines
 */
function sessionWithCart(data, lines) {
  let started = Date.now();
  const login = http.post(`${CART}/api/v1/sessions`, JSON.stringify({ username: `k6-${__VU}`, password: PASSWORD }), {
    headers: JSON_HEADERS,
    tags: { name: 'login' },
  });
  stageDuration.add(Date.now() - started, { stage: 'session' });
  if (!checkStatus(login, 201, 'login')) {
    return null;
  }
  const token = jsonAt(login, 'token');
  const items = lines.map(([s, quantity]) => ({ product_id: data.ids[s], sku: s, quantity }));
  started = Date.now();
  const put = http.put(`${CART}/api/v1/sessions/me/cart`, JSON.stringify({ items }), {
    headers: Object.assign({ Authorization: `Bearer ${token}` }, JSON_HEADERS),
    tags: { name: 'putCart' },
  });
  stageDuration.add(Date.now() - started, { stage: 'cart' });
  return checkStatus(put, 200, 'putCart') ? token : null;
}

/**
 * POST /api/v1/checkout.
 * @param {string} token @param {number} customer @param {string} key @param {number[]} statuses @param {string} stage
 */
function checkout(token, customer, key, statuses, stage) {
  const started = Date.now();
  const res = http.post(`${targetUrl()}/api/v1/checkout`, JSON.stringify({ customer_id: customer }), {
    headers: Object.assign({ Authorization: `Bearer ${token}`, 'Idempotency-Key': key }, JSON_HEADERS),
    tags: { name: 'checkout' },
    responseCallback: http.expectedStatuses(...statuses),
  });
  stageDuration.add(Date.now() - started, { stage });
  checkStatus(res, statuses, stage);
  if (res.status >= 400 && res.headers['Content-Type'] === 'application/problem+json') {
    compensations.add(Number(jsonAt(res, 'released_reservations') || 0));
  }
  return res;
}

/** @returns {Array<[string, number]>} 1-3 distinct lines of the bought SKUs */
function someLines() {
  const count = 1 + Math.floor(Math.random() * 3);
  const picked = new Set();
  while (picked.size < count) {
    picked.add(sku(1 + Math.floor(Math.random() * SKUS)));
  }
  return [...picked].map((s) => [s, 1 + Math.floor(Math.random() * 2)]);
}

/** @param {{ids: Record<string, number>, customers: number[]}} data @param {boolean} replay */
function happy(data, replay) {
  const token = sessionWithCart(data, someLines());
  if (!token) {
    return;
  }
  const customer = data.customers[Math.floor(Math.random() * data.customers.length)];
  const key = `k6-${__VU}-${__ITER}-${Date.now()}`;
  const res = checkout(token, customer, key, [201, 409], 'checkout');
  outOfStockShare.add(res.status === 409);
  if (res.status === 409) {
    check(res, { 'a happy 409 is out of stock': (r) => String(jsonAt(r, 'type')).endsWith(':out-of-stock') }, { kind: 'business' });
    return;
  }
  if (res.status !== 201) {
    return;
  }
  ordersPlaced.add(1);
  check(res, { 'receipt names its lines': (r) => jsonAt(r, 'lines').length > 0 && jsonAt(r, 'lines.0.name') !== null }, { kind: 'business' });
  if (replay) {
    const again = checkout(token, customer, key, [201], 'replay');
    check(
      again,
      { 'a replay is the same order': (r) => r.headers['Idempotent-Replayed'] === 'true' && jsonAt(r, 'order_id') === jsonAt(res, 'order_id') },
      { kind: 'business' },
    );
  }
}

/** @param {{ids: Record<string, number>, customers: number[]}} data */
function outOfStock(data) {
  const token = sessionWithCart(data, [[sku(1), 1], [SCARCE, 1000]]);
  if (token) {
    // 201 only for the first one, while nothing of the SKU is reserved.
    const res = checkout(token, data.customers[0], `k6-oos-${__VU}-${__ITER}-${Date.now()}`, [201, 409], 'checkout');
    if (res.status === 201) {
      ordersPlaced.add(1);
    }
  }
}

/** @param {{ids: Record<string, number>}} data */
function abandoned(data) {
  sessionWithCart(data, someLines());
}

/** @param {{ids: Record<string, number>, customers: number[]}} data */
export default function (data) {
  const journey = weighted([
    [70, () => happy(data, false)],
    [10, () => happy(data, true)],
    [10, () => outOfStock(data)],
    [10, () => abandoned(data)],
  ]);
  journey();
}
