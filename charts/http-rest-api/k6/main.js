// Load script of http-rest-api: its traffic mix only; profiles, thresholds, checks and the
// readiness wait come from the shared library ./obi-examples.js.
//
// The mix (MIX=full, the default) is what a catalog sees: mostly reads (get by id, list
// pages with filters), writes with bearer tokens (create, update with If-Match, delete),
// image uploads and downloads, and the errors real clients cause: 404s, validation
// failures, stale ETags, missing tokens, a greedy client hitting the rate limit, an
// oversized upload, plus a few requests that ask for the app's faults. Every expected
// error is declared, so `http_req_failed` only counts surprises.
//
// `cargo xtask bench http-rest-api` runs MIX=read (get by id + list) and MIX=write
// (create, update, delete) under the bench profile, and MIX=hello against the baseline.
//
// Extra environment: MIX (full | read | write | hello), SEED_PRODUCTS (default 30),
// DEMO_PASSWORD_SUFFIX (default "-password", the chart's demo users).

import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { buildOptions, checkStatus, faultHeaders, targetUrl, waitForReady, weighted } from './obi-examples.js';

const MIX = __ENV.MIX || 'full';
const SEED = Number(__ENV.SEED_PRODUCTS || 30);
const SUFFIX = __ENV.DEMO_PASSWORD_SUFFIX || '-password';
const BASE = targetUrl();
const API = `${BASE}/api/v1`;

// Business metrics: what the catalog did, not only how fast.
const productsCreated = new Counter('catalog_products_created');
const productsDeleted = new Counter('catalog_products_deleted');
const imagesUploaded = new Counter('catalog_images_uploaded');
const productsViewed = new Counter('catalog_products_viewed');
const pageSize = new Trend('catalog_page_size');
const staleUpdates = new Rate('catalog_update_conflicts');
const rateLimited = new Counter('catalog_rate_limited');
const storeFull = new Counter('catalog_store_full');

/** @type {Record<string, string[]>} */
const SCRIPT_THRESHOLDS = {};
if (MIX === 'full' || MIX === 'read') {
  Object.assign(SCRIPT_THRESHOLDS, {
    'http_req_duration{name:getProduct}': ['p(95)<300'],
    'http_req_duration{name:listProducts}': ['p(95)<500'],
    'checks{kind:read}': ['rate>0.99'],
    catalog_products_viewed: ['count>0'],
  });
}
if (MIX === 'full' || MIX === 'write') {
  Object.assign(SCRIPT_THRESHOLDS, {
    'checks{kind:write}': ['rate>0.95'],
    catalog_products_created: ['count>0'],
  });
}
if (MIX === 'full') {
  Object.assign(SCRIPT_THRESHOLDS, {
    'checks{kind:expected_error}': ['rate>0.95'],
    catalog_update_conflicts: ['rate<0.5'],
  });
}

export const options = buildOptions(SCRIPT_THRESHOLDS);

/** A tiny valid PNG-looking file (the app checks the signature, not the pixels). */
function png(size) {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes.buffer;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Expected statuses besides 2xx/3xx, per request. */
function expecting(...statuses) {
  return http.expectedStatuses({ min: 200, max: 399 }, ...statuses);
}

function token(user) {
  const res = http.post(
    `${API}/auth/token`,
    JSON.stringify({ username: user, password: `${user}${SUFFIX}` }),
    { headers: JSON_HEADERS, tags: { name: 'issueToken' } },
  );
  checkStatus(res, 200, `token for ${user}`);
  return res.status === 200 ? String(res.json('access_token')) : '';
}

/** Per-VU tokens (each VU is its own client for the rate limiter), renewed before expiry. */
/** @type {{ issued: number, reader: string, editor: string, admin: string, greedy: string } | null} */
let tokens = null;
function vuTokens() {
  if (tokens === null || Date.now() - tokens.issued > 10 * 60 * 1000) {
    tokens = {
      issued: Date.now(),
      reader: token('reader'),
      editor: token('editor'),
      admin: token('admin'),
      // The rate limiter keys by user: the greedy client is a user of its own, or
      // its 429s would land on this VU's and every other VU's reads as `reader`.
      greedy: token('crawler'),
    };
  }
  return tokens;
}

function auth(bearer, extra) {
  return Object.assign({ Authorization: `Bearer ${bearer}` }, extra || {});
}

let counter = 0;
function newProduct(prefix) {
  counter += 1;
  const category = ['kitchen', 'office', 'garden', 'toys'][counter % 4];
  return {
    sku: `${prefix}-${__VU}-${counter}-${Date.now() % 100000}`.toUpperCase().slice(0, 32),
    name: `Load product ${counter}`,
    description: 'created by k6',
    category,
    price_cents: 100 + ((counter * 37) % 10000),
    stock: counter % 7,
  };
}

export function setup() {
  waitForReady();
  if (MIX === 'hello') {
    return { ids: [] };
  }
  const editor = token('editor');
  const ids = [];
  for (let i = 0; i < SEED; i += 1) {
    const res = http.post(`${API}/products`, JSON.stringify(newProduct('SEED')), {
      headers: auth(editor, JSON_HEADERS),
      tags: { name: 'createProduct' },
      responseCallback: expecting(507),
    });
    if (res.status === 201) {
      ids.push(res.json('id'));
    }
  }
  // Reuse what is there when the store was full or already seeded.
  if (ids.length === 0) {
    const page = http.get(`${API}/products?limit=50`, { tags: { name: 'listProducts' } });
    for (const item of /** @type {any[]} */ (page.json('items') || [])) {
      ids.push(item.id);
    }
  }
  return { ids };
}

function pick(ids) {
  return ids[Math.floor(Math.random() * ids.length)];
}

// --- reads ---------------------------------------------------------------------

function getProduct(data, bearer) {
  const res = http.get(`${API}/products/${pick(data.ids)}`, {
    headers: auth(bearer),
    tags: { name: 'getProduct' },
    // Seeded products may have been deleted by another VU's delete.
    responseCallback: expecting(404),
  });
  checkStatus(res, [200, 404], 'get product', { kind: 'read' });
  if (res.status === 200) {
    productsViewed.add(1);
  }
}

function listProducts(bearer) {
  const filters = weighted([
    [4, ''],
    [2, '&category=kitchen'],
    [1, '&min_price=500&max_price=5000'],
    [1, '&q=load&in_stock=true'],
  ]);
  const limit = weighted([[3, 20], [1, 50], [1, 5]]);
  const res = http.get(`${API}/products?limit=${limit}${filters}`, {
    headers: auth(bearer),
    tags: { name: 'listProducts' },
  });
  checkStatus(res, 200, 'list', { kind: 'read' });
  if (res.status !== 200) {
    return;
  }
  const items = /** @type {any[]} */ (res.json('items') || []);
  pageSize.add(items.length);
  const next = res.json('next_cursor');
  if (next && Math.random() < 0.3) {
    const more = http.get(`${API}/products?limit=${limit}&cursor=${encodeURIComponent(String(next))}${filters}`, {
      headers: auth(bearer),
      tags: { name: 'listProducts' },
    });
    checkStatus(more, 200, 'next page', { kind: 'read' });
  }
}

// --- writes --------------------------------------------------------------------

function createProduct(t) {
  const res = http.post(`${API}/products`, JSON.stringify(newProduct('LOAD')), {
    headers: auth(t.editor, JSON_HEADERS),
    tags: { name: 'createProduct' },
    responseCallback: expecting(507),
  });
  check(res, { 'create is 201 (or 507 when full)': (r) => r.status === 201 || r.status === 507 }, { kind: 'write' });
  if (res.status === 507) {
    storeFull.add(1);
    return null;
  }
  if (res.status === 201) {
    productsCreated.add(1);
    return res.json('id');
  }
  return null;
}

function deleteProduct(t, id) {
  const res = http.del(`${API}/products/${id}`, null, {
    headers: auth(t.admin),
    tags: { name: 'deleteProduct' },
    responseCallback: expecting(404),
  });
  check(res, { 'delete is 204': (r) => r.status === 204 || r.status === 404 }, { kind: 'write' });
  if (res.status === 204) {
    productsDeleted.add(1);
  }
}

function updateProduct(t, id, stale) {
  const current = http.get(`${API}/products/${id}`, {
    headers: auth(t.editor),
    tags: { name: 'getProduct' },
    responseCallback: expecting(404),
  });
  if (current.status !== 200) {
    return;
  }
  const etag = stale ? '"0-0"' : String(current.headers.Etag || current.headers.ETag || '');
  const body = /** @type {any} */ (current.json());
  body.price_cents = 100 + Math.floor(Math.random() * 10000);
  const res = http.put(`${API}/products/${id}`, JSON.stringify(body), {
    headers: auth(t.editor, Object.assign({ 'If-Match': etag }, JSON_HEADERS)),
    tags: { name: 'updateProduct' },
    responseCallback: expecting(404, 412),
  });
  staleUpdates.add(res.status === 412);
  if (stale) {
    check(res, { 'stale update is 412': (r) => r.status === 412 }, { kind: 'expected_error' });
  } else {
    check(res, { 'update is 200 (or 412 when raced)': (r) => [200, 404, 412].includes(r.status) }, { kind: 'write' });
  }
}

function writeCycle(t) {
  const id = createProduct(t);
  if (id === null) {
    return;
  }
  updateProduct(t, id, false);
  if (Math.random() < 0.5) {
    uploadImage(t, id, 2048);
    downloadImage(id);
  }
  // Keep the bounded store from filling: most created products go again.
  if (Math.random() < 0.9) {
    deleteProduct(t, id);
  }
}

// --- images --------------------------------------------------------------------

function uploadImage(t, id, size) {
  const res = http.put(
    `${API}/products/${id}/image`,
    { file: http.file(png(size), 'product.png', 'image/png') },
    { headers: auth(t.editor), tags: { name: 'uploadProductImage' }, responseCallback: expecting(404, 413, 507) },
  );
  if (size > 1024 * 1024) {
    check(res, { 'oversized upload is 413': (r) => r.status === 413 }, { kind: 'expected_error' });
  } else {
    check(res, { 'upload is 200': (r) => r.status === 200 || r.status === 404 }, { kind: 'write' });
    if (res.status === 200) {
      imagesUploaded.add(1);
    }
  }
}

function downloadImage(id) {
  const res = http.get(`${API}/products/${id}/image`, {
    tags: { name: 'getProductImage' },
    responseCallback: expecting(404),
  });
  checkStatus(res, [200, 404], 'image download', { kind: 'read' });
}

// --- the errors clients cause --------------------------------------------------

function expectedError(t, data) {
  const which = weighted([
    [4, 'notFound'],
    [2, 'invalid'],
    [2, 'noToken'],
    [1, 'forbidden'],
    [1, 'stale'],
    [1, 'oversized'],
  ]);
  if (which === 'notFound') {
    const res = http.get(`${API}/products/${900000000 + Math.floor(Math.random() * 1000)}`, {
      tags: { name: 'getProduct' },
      responseCallback: expecting(404),
    });
    check(res, { 'unknown product is 404': (r) => r.status === 404 }, { kind: 'expected_error' });
  } else if (which === 'invalid') {
    const res = http.post(`${API}/products`, JSON.stringify({ sku: 'bad sku', name: '', price_cents: -1 }), {
      headers: auth(t.editor, JSON_HEADERS),
      tags: { name: 'createProduct' },
      responseCallback: expecting(422),
    });
    check(res, { 'invalid product is 422': (r) => r.status === 422 }, { kind: 'expected_error' });
  } else if (which === 'noToken') {
    const res = http.post(`${API}/products`, JSON.stringify(newProduct('ANON')), {
      headers: JSON_HEADERS,
      tags: { name: 'createProduct' },
      responseCallback: expecting(401),
    });
    check(res, { 'write without token is 401': (r) => r.status === 401 }, { kind: 'expected_error' });
  } else if (which === 'forbidden') {
    const res = http.del(`${API}/products/${pick(data.ids)}`, null, {
      headers: auth(t.reader),
      tags: { name: 'deleteProduct' },
      responseCallback: expecting(403),
    });
    check(res, { 'reader delete is 403': (r) => r.status === 403 }, { kind: 'expected_error' });
  } else if (which === 'stale') {
    updateProduct(t, pick(data.ids), true);
  } else {
    uploadImage(t, pick(data.ids), 1024 * 1024 + 4096);
  }
}

/** One client that ignores its budget: a batch past the burst, counted as 429s. */
function greedyClient(t) {
  const requests = [];
  for (let i = 0; i < 120; i += 1) {
    requests.push({
      method: 'GET',
      url: `${API}/products?limit=1`,
      params: { headers: auth(t.greedy), tags: { name: 'listProducts' }, responseCallback: expecting(429) },
    });
  }
  const responses = http.batch(requests);
  const limited = responses.filter((r) => r.status === 429).length;
  rateLimited.add(limited);
  check(responses[responses.length - 1], { 'greedy client is answered 200 or 429': (r) => r.status === 200 || r.status === 429 }, {
    kind: 'expected_error',
  });
}

/** A few requests that ask for the app's faults, so their symptoms show up in OBI. */
function faults(data) {
  const which = weighted([[2, 'delay'], [1, 'error'], [1, 'slow']]);
  if (which === 'delay') {
    http.get(`${API}/products/${pick(data.ids)}`, {
      headers: faultHeaders({ 'x-fault-delay': '150ms' }),
      tags: { name: 'getProduct' },
      responseCallback: expecting(404),
    });
  } else if (which === 'error') {
    const res = http.get(`${API}/products?limit=5`, {
      headers: faultHeaders({ 'x-fault-error': '503' }),
      tags: { name: 'listProducts' },
      responseCallback: expecting(503),
    });
    check(res, { 'injected error is 503': (r) => r.status === 503 }, { kind: 'expected_error' });
  } else {
    const res = http.get(`${API}/reports/inventory`, {
      headers: faultHeaders({ 'x-fault-scenario': 'slow_endpoint' }),
      tags: { name: 'inventoryReport' },
      timeout: '30s',
    });
    check(res, { 'slow report is 200': (r) => r.status === 200 }, { kind: 'read' });
  }
}

function report() {
  const res = http.get(`${API}/reports/inventory`, { tags: { name: 'inventoryReport' } });
  check(res, { 'report is 200': (r) => r.status === 200 }, { kind: 'read' });
}

// --- mixes ---------------------------------------------------------------------

/**
 * The bench's read path: public reads, status checks only and bodies discarded, so
 * the client does about as little per request as against the hello baseline.
 */
function benchRead(data) {
  const byId = Math.random() < 0.7;
  const res = byId
    ? http.get(`${API}/products/${pick(data.ids)}`, { tags: { name: 'getProduct' }, responseType: 'none' })
    : http.get(`${API}/products?limit=20`, { tags: { name: 'listProducts' }, responseType: 'none' });
  check(res, { 'read is 200': (r) => r.status === 200 }, { kind: 'read' });
  if (byId && res.status === 200) {
    productsViewed.add(1);
  }
}

export default function (data) {
  if (MIX === 'hello') {
    const res = http.get(`${BASE}/`, { tags: { name: 'hello' }, responseType: 'none' });
    check(res, { 'hello is 200': (r) => r.status === 200 });
    return;
  }
  if (MIX === 'read') {
    benchRead(data);
    return;
  }
  const t = vuTokens();
  if (MIX === 'write') {
    const id = createProduct(t);
    if (id !== null) {
      updateProduct(t, id, false);
      deleteProduct(t, id);
    }
    return;
  }
  const action = weighted([
    [45, 'get'],
    [25, 'list'],
    [12, 'write'],
    [4, 'download'],
    [8, 'error'],
    [2, 'report'],
    [3, 'fault'],
    [1, 'greedy'],
  ]);
  switch (action) {
    case 'get':
      getProduct(data, t.reader);
      break;
    case 'list':
      listProducts(t.reader);
      break;
    case 'write':
      writeCycle(t);
      break;
    case 'download':
      downloadImage(pick(data.ids));
      break;
    case 'error':
      expectedError(t, data);
      break;
    case 'report':
      report();
      break;
    case 'fault':
      faults(data);
      break;
    default:
      greedyClient(t);
  }
  // Think time: a client of a catalog does not hammer it back to back.
  sleep(0.05 + Math.random() * 0.1);
}
