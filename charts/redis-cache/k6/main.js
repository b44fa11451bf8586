// Load script of redis-cache: its traffic mix only; profiles, thresholds, checks and
// the readiness wait come from the shared library ./obi-examples.js.
//
// Mix: hit-heavy reads of a hot set of products (the cache's job), miss storms over
// the whole catalog (single flight coalescing concurrent misses of one key, and the
// same storm with the cache_stampede fault), negative lookups (remembered 404s),
// sessions (login, me, logout, wrong password), price changes that invalidate and
// publish, SSE subscribers listening in short windows, invalidations, stats, and a few
// reads that play the hot_key and ttl_too_short faults.
//
// MIX=cached-get (used by `cargo xtask bench redis-cache`) only reads the hot set.

import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import { check } from 'k6';
import { buildOptions, checkStatus, faultHeaders, targetUrl, waitForReady, weighted } from './obi-examples.js';

const cacheHits = new Rate('cache_hit_ratio');
const degradedReads = new Counter('cache_degraded_reads');
const sessionsCreated = new Counter('sessions_created');
const priceEvents = new Counter('price_events_received');
const priceChanges = new Counter('price_changes');

const CACHED_ONLY = __ENV.MIX === 'cached-get';

export const options = buildOptions(
  CACHED_ONLY
    ? { 'http_req_duration{name:getProduct}': ['p(95)<500'] }
    : {
        sessions_created: ['count>0'],
        'http_req_duration{name:getProduct}': ['p(95)<500'],
        'checks{kind:business}': ['rate>0.99'],
      },
);

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const HOT = 200;
const CATALOG = 10000;
const PASSWORD = __ENV.SESSION_PASSWORD || 'obi-examples';

/** @param {string} path */
function url(path) {
  return `${targetUrl()}/api/v1${path}`;
}

/** @param {number} n @returns {number} 1..n */
function upTo(n) {
  return 1 + Math.floor(Math.random() * n);
}

/** A hot product: low ids far more often (roughly Zipf-like). @returns {number} */
function hotId() {
  return 1 + Math.floor(HOT * Math.pow(Math.random(), 3));
}

/**
 * GET a product; records the cache outcome.
 * @param {number} id
 * @param {Record<string, string>} [headers]
 * @param {number[]} [statuses]
 */
function getProduct(id, headers, statuses) {
  const wanted = statuses || [200];
  const res = http.get(url(`/products/${id}`), {
    headers,
    tags: { name: 'getProduct' },
    responseCallback: http.expectedStatuses(...wanted),
  });
  checkStatus(res, wanted, 'getProduct');
  const cache = res.headers['X-Cache'];
  if (cache) {
    cacheHits.add(cache === 'hit');
  }
  if (res.headers['X-Cache-Degraded']) {
    degradedReads.add(1);
  }
  return res;
}

export function setup() {
  waitForReady();
  for (let id = 1; id <= HOT; id++) {
    getProduct(id);
  }
}

/** Concurrent misses of one fresh key; with the fault, single flight is off. @param {boolean} stampede */
function missStorm(stampede) {
  const id = upTo(CATALOG);
  /** @type {Record<string, string>} */
  const headers = stampede ? faultHeaders({ 'x-fault-scenario': 'cache_stampede' }) : {};
  const requests = [];
  for (let i = 0; i < 5; i++) {
    requests.push({ method: 'GET', url: url(`/products/${id}`), params: { headers, tags: { name: 'getProduct' } } });
  }
  for (const res of http.batch(requests)) {
    checkStatus(res, 200, 'getProduct');
    cacheHits.add(res.headers['X-Cache'] === 'hit');
  }
}

function session() {
  const user = `k6-${__VU}-${Math.floor(Math.random() * 1e6)}`;
  const res = http.post(url('/sessions'), JSON.stringify({ username: user, password: PASSWORD }), {
    headers: JSON_HEADERS,
    tags: { name: 'login' },
  });
  if (!checkStatus(res, 201, 'login')) {
    return;
  }
  sessionsCreated.add(1);
  const auth = { Authorization: `Bearer ${res.json('token')}` };
  for (let i = 0; i < 2; i++) {
    const me = http.get(url('/sessions/me'), { headers: auth, tags: { name: 'me' } });
    checkStatus(me, 200, 'me');
    check(me, { 'me names the user': (r) => r.status === 200 && r.json('username') === user }, { kind: 'business' });
  }
  checkStatus(http.del(url('/sessions/me'), null, { headers: auth, tags: { name: 'logout' } }), 204, 'logout');
  const gone = http.get(url('/sessions/me'), {
    headers: auth,
    tags: { name: 'me' },
    responseCallback: http.expectedStatuses(401),
  });
  checkStatus(gone, 401, 'me after logout');
}

function wrongPassword() {
  const res = http.post(url('/sessions'), JSON.stringify({ username: 'mallory', password: 'guess' }), {
    headers: JSON_HEADERS,
    tags: { name: 'login' },
    responseCallback: http.expectedStatuses(401),
  });
  checkStatus(res, 401, 'wrong password');
}

function changePrice() {
  const id = upTo(HOT);
  const price = 100 + Math.floor(Math.random() * 9900);
  const res = http.put(url(`/products/${id}/price`), JSON.stringify({ price_cents: price }), {
    headers: JSON_HEADERS,
    tags: { name: 'setPrice' },
  });
  if (checkStatus(res, 200, 'setPrice')) {
    priceChanges.add(1);
    check(res, { 'new price is stored': (r) => r.json('price_cents') === price }, { kind: 'business' });
  }
}

/** An SSE subscriber listening for a short window (the stream ends by itself). */
function subscribe() {
  const res = http.get(url('/prices/stream?max_duration_ms=1000&max_events=20'), {
    tags: { name: 'streamPrices' },
    timeout: '10s',
  });
  if (checkStatus(res, 200, 'streamPrices')) {
    const body = typeof res.body === 'string' ? res.body : '';
    priceEvents.add((body.match(/^data:/gm) || []).length);
  }
}

function invalidate() {
  const res = http.del(url(`/products/${upTo(HOT)}/cache`), null, { tags: { name: 'invalidateProduct' } });
  checkStatus(res, 204, 'invalidateProduct');
}

function clientErrors() {
  getProduct(CATALOG + upTo(1000), undefined, [404]);
  const bad = http.get(url('/products/0'), { tags: { name: 'getProduct' }, responseCallback: http.expectedStatuses(400) });
  checkStatus(bad, 400, 'bad id');
}

export default function () {
  if (CACHED_ONLY) {
    getProduct(hotId());
    return;
  }
  const action = weighted([
    [55, () => getProduct(hotId())],
    [6, () => missStorm(false)],
    [2, () => missStorm(true)],
    [6, () => clientErrors()],
    [10, () => session()],
    [2, () => wrongPassword()],
    [4, () => changePrice()],
    [3, () => subscribe()],
    [3, () => invalidate()],
    [2, () => checkStatus(http.get(url('/stats'), { tags: { name: 'stats' } }), 200, 'stats')],
    [3, () => getProduct(upTo(CATALOG), faultHeaders({ 'x-fault-scenario': 'hot_key' }))],
    [3, () => getProduct(hotId(), faultHeaders({ 'x-fault-scenario': 'ttl_too_short' }))],
  ]);
  action();
}
