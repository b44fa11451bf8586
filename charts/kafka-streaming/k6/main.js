// Load script of kafka-streaming: its traffic mix only; profiles, thresholds, checks
// and the readiness wait come from the shared library ./obi-examples.js.
//
// Mix: single events (the hot path), batches, deliberate retries of an event id (the
// worker must process it once), lag and worker stats reads, expected client errors
// (422), and a few requests that play the Kafka faults through x-fault-scenario
// (poison_rate -> dead-letter topic, producer_burst -> duplicates).
//
// MIX=single or MIX=batch (used by `cargo xtask bench kafka-streaming`) only publish.

import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { buildOptions, checkStatus, faultHeaders, targetUrl, waitForReady, weighted } from './obi-examples.js';

const eventsAccepted = new Counter('events_accepted');
const eventsRejected = new Counter('events_rejected');
const consumerLag = new Trend('consumer_lag');

export const options = buildOptions({
  events_accepted: ['count>0'],
  'http_req_duration{name:publishEvent}': ['p(95)<1000'],
});

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const TYPES = ['order.created', 'order.paid', 'cart.updated', 'user.signed_up'];
const BATCH = 20;

/** @param {string} path */
function url(path) {
  return `${targetUrl()}/api/v1${path}`;
}

/** @returns {string} */
function newId() {
  return `k6-${__VU}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * @param {string} [id]
 * @returns {{ id: string, type: string, source: string, payload: Record<string, unknown> }}
 */
function event(id) {
  return {
    id: id || newId(),
    type: TYPES[Math.floor(Math.random() * TYPES.length)],
    source: 'k6',
    payload: { amount_cents: Math.floor(Math.random() * 10000), items: 1 + Math.floor(Math.random() * 5) },
  };
}

export function setup() {
  waitForReady();
}

/**
 * @param {Record<string, string>} [extra]
 * @param {string} [id]
 */
function publish(extra, id) {
  const res = http.post(url('/events'), JSON.stringify(event(id)), {
    headers: Object.assign({}, JSON_HEADERS, extra || {}),
    tags: { name: 'publishEvent' },
  });
  if (checkStatus(res, 202, 'publishEvent')) {
    eventsAccepted.add(1);
  }
}

function publishBatch() {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    events.push(event());
  }
  const res = http.post(url('/events/batch'), JSON.stringify({ events }), {
    headers: JSON_HEADERS,
    tags: { name: 'publishEvents' },
  });
  if (checkStatus(res, 202, 'publishEvents')) {
    eventsAccepted.add(BATCH);
  }
}

/** The same id twice: both acknowledged, processed once. */
function retry() {
  const id = newId();
  publish({}, id);
  publish({}, id);
}

function readLag() {
  const res = http.get(url('/consumer/lag'), { tags: { name: 'consumerLag' } });
  if (checkStatus(res, 200, 'consumerLag')) {
    consumerLag.add(Number(res.json('total')));
  }
}

function readStats() {
  checkStatus(http.get(url('/consumer/stats'), { tags: { name: 'consumerStats' } }), 200, 'consumerStats');
}

/** Events the API must refuse with 422, never a 500. */
function invalid() {
  const res = http.post(url('/events'), JSON.stringify({ source: 'k6', payload: {} }), {
    headers: JSON_HEADERS,
    tags: { name: 'publishEvent' },
    responseCallback: http.expectedStatuses(422),
  });
  if (checkStatus(res, 422, 'invalid event')) {
    eventsRejected.add(1);
  }
}

export default function () {
  if (__ENV.MIX === 'single') {
    publish();
    return;
  }
  if (__ENV.MIX === 'batch') {
    publishBatch();
    return;
  }
  const action = weighted([
    [55, () => publish()],
    [12, () => publishBatch()],
    [6, () => retry()],
    [8, () => readLag()],
    [6, () => readStats()],
    [8, () => invalid()],
    [3, () => publish(faultHeaders({ 'x-fault-scenario': 'poison_rate' }))],
    [2, () => publish(faultHeaders({ 'x-fault-scenario': 'producer_burst' }))],
  ]);
  action();
}
