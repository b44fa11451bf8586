// Load script of grpc-microservice: its traffic mix only; profiles, thresholds, checks and the
// readiness wait come from the shared library ./obi-examples.js.
//
// The mix (MIX=full, the default) is what an order service does to an inventory: mostly
// GetStock, reservations that are released or left to expire, short WatchStock streams,
// BulkAdjust restocks and ReserveStream batches, plus the errors real clients cause
// (unknown SKUs, over-reservations, invalid quantities, tight deadlines) and a few calls
// that ask for the app's faults. The schema comes from the server's reflection service,
// so no .proto file has to travel with the script.
//
// `cargo xtask bench grpc-microservice` runs MIX=get (unary GetStock only) as its k6 row;
// its throughput rows and the grpc-echo baseline use lighter clients (openload, ghz).
//
// Extra environment: MIX (full | get), SKUS (default 1000, the chart's seed).

import grpc from 'k6/net/grpc';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { buildOptions, faultHeaders, targetUrl, waitForReady, weighted } from './obi-examples.js';

const MIX = __ENV.MIX || 'full';
const SKUS = Number(__ENV.SKUS || 1000);
const ADDRESS = targetUrl().replace(/^https?:\/\//, '');
const SERVICE = 'inventory.v1.Inventory';

// Business metrics: what the inventory did, not only how fast.
const reservations = new Counter('inventory_reservations');
const releases = new Counter('inventory_releases');
const outOfStock = new Counter('inventory_out_of_stock');
const stockEvents = new Counter('inventory_watch_events');
const adjustments = new Counter('inventory_adjustments');
const unexpected = new Rate('inventory_unexpected_status');

/** @type {Record<string, string[]>} */
const SCRIPT_THRESHOLDS = {
  grpc_req_duration: ['p(95)<1000'],
  inventory_unexpected_status: ['rate<0.05'],
};
if (MIX === 'full') {
  Object.assign(SCRIPT_THRESHOLDS, {
    inventory_reservations: ['count>0'],
    'checks{kind:expected_error}': ['rate>0.95'],
  });
}

export const options = buildOptions(SCRIPT_THRESHOLDS);

const client = new grpc.Client();
let connected = false;

export function setup() {
  waitForReady();
}

function connect() {
  if (!connected) {
    client.connect(ADDRESS, { plaintext: true, reflect: true, timeout: '10s' });
    connected = true;
  }
}

function sku() {
  const n = 1 + Math.floor(Math.random() * SKUS);
  return `SKU-${String(n).padStart(5, '0')}`;
}

/**
 * Calls one inventory method; counts a status outside `expected` as unexpected.
 * @param {string} method
 * @param {object} body
 * @param {number[]} expected
 * @param {string} kind
 * @param {Record<string, string>} [metadata]
 * @param {string} [timeout]
 */
function call(method, body, expected, kind, metadata, timeout) {
  const res = client.invoke(`${SERVICE}/${method}`, body, {
    metadata: metadata || {},
    // A one-second deadline, like a real caller's: under deadline_storm the server
    // answers DEADLINE_EXCEEDED when it passes.
    timeout: timeout || '1s',
    tags: { name: method },
  });
  const ok = expected.includes(res.status);
  unexpected.add(!ok);
  check(res, { [`${method} status is ${expected.join(' or ')}`]: () => ok }, { kind });
  return res;
}

function getStock() {
  call('GetStock', { sku: sku() }, [grpc.StatusOK], 'read');
}

function reserveAndRelease() {
  const res = call(
    'Reserve',
    { sku: sku(), quantity: 1 + Math.floor(Math.random() * 3), ttl_ms: 30000 },
    [grpc.StatusOK, grpc.StatusFailedPrecondition],
    'write',
  );
  if (res.status === grpc.StatusFailedPrecondition) {
    outOfStock.add(1);
    return;
  }
  reservations.add(1);
  // Two in three reservations are released; the rest expire and give their units back.
  if (Math.random() < 0.66 && res.message) {
    const id = /** @type {{reservationId: string}} */ (res.message).reservationId;
    call('Release', { reservation_id: id }, [grpc.StatusOK], 'write');
    releases.add(1);
  }
}

function restock() {
  const stream = new grpc.Stream(client, `${SERVICE}/BulkAdjust`, { timeout: '5s' });
  stream.on('data', () => adjustments.add(3));
  stream.on('error', () => unexpected.add(true));
  for (let i = 0; i < 3; i += 1) {
    stream.write({ sku: sku(), delta: 1 + Math.floor(Math.random() * 5) });
  }
  stream.end();
}

function watch() {
  // The server ends the watch with OK after watch_ms; under stalled_stream it stalls
  // until the 5 s deadline instead.
  const stream = new grpc.Stream(client, `${SERVICE}/WatchStock`, { timeout: '5s' });
  stream.on('data', () => stockEvents.add(1));
  stream.on('error', () => unexpected.add(true));
  stream.write({ skus: [sku(), sku(), sku()], watch_ms: 500 });
  stream.end();
}

function reserveBatch() {
  const stream = new grpc.Stream(client, `${SERVICE}/ReserveStream`, { timeout: '5s' });
  stream.on('data', () => reservations.add(1));
  stream.on('error', () => unexpected.add(true));
  for (let i = 0; i < 4; i += 1) {
    stream.write({ sku: sku(), quantity: 1, ttl_ms: 2000 });
  }
  stream.end();
}

function expectedErrors() {
  const pick = weighted([
    [3, 'unknown'],
    [2, 'invalid'],
    [2, 'oversell'],
    [1, 'deadline'],
    [1, 'fault'],
  ]);
  if (pick === 'unknown') {
    call('GetStock', { sku: 'SKU-MISSING' }, [grpc.StatusNotFound], 'expected_error');
  } else if (pick === 'invalid') {
    call('Reserve', { sku: sku(), quantity: 0 }, [grpc.StatusInvalidArgument], 'expected_error');
  } else if (pick === 'oversell') {
    call('Reserve', { sku: sku(), quantity: 1000, ttl_ms: 1000 },
      [grpc.StatusFailedPrecondition, grpc.StatusOK], 'expected_error');
  } else if (pick === 'deadline') {
    call('GetStock', { sku: sku() }, [grpc.StatusDeadlineExceeded], 'expected_error',
      faultHeaders({ 'x-fault-delay': '300ms' }), '100ms');
  } else {
    call('GetStock', { sku: sku() }, [grpc.StatusUnavailable], 'expected_error',
      faultHeaders({ 'x-fault-error': '503' }));
  }
}

export default function () {
  connect();
  if (MIX === 'get') {
    call('GetStock', { sku: sku() }, [grpc.StatusOK], 'read');
    return;
  }
  const action = weighted([
    [50, getStock],
    [25, reserveAndRelease],
    [5, restock],
    [5, watch],
    [5, reserveBatch],
    [10, expectedErrors],
  ]);
  action();
}

export function teardown() {
  client.close();
}
