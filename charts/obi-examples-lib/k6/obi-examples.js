// The k6 library shared by every app's load script: profiles, thresholds, checks,
// readiness wait. It lives once, here; each app chart carries a generated copy in
// its k6/ directory (`cargo xtask charts generate`, drift fails the gate).
//
// An app script imports what it needs and only defines its traffic mix:
//
//   import { buildOptions, waitForReady, targetUrl } from './obi-examples.js';
//   export const options = buildOptions({ 'checks{app:catalog}': ['rate>0.9'] });
//   export function setup() { waitForReady(); }
//   export default function () { ... }
//
// Environment (set by the chart's hook Job):
//   K6_PROFILE      smoke | constant | spike | stress | soak (default smoke)
//   TARGET_URL      the app's base URL, e.g. http://obi-examples-http-rest-api:8080
//   READY_URL       polled until it answers 200 before any load (default TARGET_URL/readyz)
//   READY_TIMEOUT   how long to wait for readiness, e.g. 5m (default 5m)
//   K6_THRESHOLDS   JSON object metric -> [expressions], merged over the defaults
//   LOAD_DURATION   overrides the duration of smoke, constant, soak and bench
//   LOAD_VUS        clients of the bench profile (default 16)
//   FAULT_TOKEN     the app's admin token, which x-fault-* headers need (faultHeaders)
//   (not K6_DURATION / K6_VUS: k6 reads those itself, and they would replace the scenarios)


import http from 'k6/http';
import { check, fail, sleep } from 'k6';

/** Load shapes by name. Arrival-rate executors keep the request rate independent of latency. */
export const PROFILES = {
  smoke: {
    executor: 'constant-vus',
    vus: 2,
    duration: '1m',
  },
  constant: {
    executor: 'constant-arrival-rate',
    rate: 20,
    timeUnit: '1s',
    duration: '10m',
    preAllocatedVUs: 10,
    maxVUs: 50,
  },
  spike: {
    executor: 'ramping-arrival-rate',
    startRate: 5,
    timeUnit: '1s',
    preAllocatedVUs: 20,
    maxVUs: 200,
    stages: [
      { target: 5, duration: '1m' },
      { target: 150, duration: '30s' },
      { target: 150, duration: '1m' },
      { target: 5, duration: '30s' },
      { target: 5, duration: '2m' },
    ],
  },
  stress: {
    executor: 'ramping-arrival-rate',
    startRate: 10,
    timeUnit: '1s',
    preAllocatedVUs: 20,
    maxVUs: 300,
    stages: [
      { target: 50, duration: '3m' },
      { target: 100, duration: '3m' },
      { target: 200, duration: '3m' },
      { target: 300, duration: '3m' },
      { target: 0, duration: '3m' },
    ],
  },
  soak: {
    executor: 'constant-arrival-rate',
    rate: 10,
    timeUnit: '1s',
    duration: '2h',
    preAllocatedVUs: 10,
    maxVUs: 50,
  },
  // Closed-model saturation for `cargo xtask bench` (not offered by the charts):
  // LOAD_VUS clients as fast as the app answers, for LOAD_DURATION.
  bench: {
    executor: 'constant-vus',
    vus: Number(__ENV.LOAD_VUS || 16),
    duration: '15s',
  },
};

/** Thresholds every app meets under the smoke profile; charts may override them. */
export const DEFAULT_THRESHOLDS = {
  checks: ['rate>0.95'],
  http_req_failed: ['rate<0.05'],
  http_req_duration: ['p(95)<1000'],
};

/** The selected profile name, validated. */
export function profileName() {
  const name = __ENV.K6_PROFILE || 'smoke';
  if (!Object.prototype.hasOwnProperty.call(PROFILES, name)) {
    fail(`unknown K6_PROFILE "${name}"; known: ${Object.keys(PROFILES).join(', ')}`);
  }
  return name;
}

/** Base URL of the app under test, without a trailing slash. */
export function targetUrl() {
  const url = __ENV.TARGET_URL || 'http://127.0.0.1:8080';
  return url.replace(/\/+$/, '');
}

/** Parses a duration such as "90s", "5m" or "1h" into seconds. */
export function seconds(text) {
  const match = /^(\d+)(ms|s|m|h)$/.exec(String(text).trim());
  if (!match) {
    fail(`cannot read duration "${text}"; use e.g. 30s, 5m, 1h`);
  }
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2]];
  return Number(match[1]) * factor;
}

/** Default thresholds, then the chart's K6_THRESHOLDS, then the script's own. */
export function thresholds(scriptThresholds) {
  let fromChart = {};
  if (__ENV.K6_THRESHOLDS) {
    try {
      fromChart = JSON.parse(__ENV.K6_THRESHOLDS) || {};
    } catch (err) {
      fail(`K6_THRESHOLDS is not JSON: ${err}`);
    }
  }
  return Object.assign({}, DEFAULT_THRESHOLDS, fromChart, scriptThresholds || {});
}

/** k6 options: one scenario shaped by the profile, thresholds, a setup long enough to wait. */
export function buildOptions(scriptThresholds, exec) {
  const scenario = Object.assign({}, PROFILES[profileName()]);
  // LOAD_DURATION shortens (or lengthens) a fixed-length profile: the gate runs smoke
  // for 20s per app, bench sets its measurement length.
  if (__ENV.LOAD_DURATION && 'duration' in scenario) {
    seconds(__ENV.LOAD_DURATION);
    scenario.duration = __ENV.LOAD_DURATION;
  }
  if (exec) {
    scenario.exec = exec;
  }
  return {
    scenarios: { [profileName()]: scenario },
    thresholds: thresholds(scriptThresholds),
    setupTimeout: `${Math.ceil(seconds(__ENV.READY_TIMEOUT || '5m')) + 30}s`,
    summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

/** Polls READY_URL until it answers 200; fails the run when READY_TIMEOUT passes first. */
export function waitForReady() {
  const url = __ENV.READY_URL || `${targetUrl()}/readyz`;
  const deadline = Date.now() + seconds(__ENV.READY_TIMEOUT || '5m') * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const res = http.get(url, { timeout: '5s', tags: { name: 'readiness' } });
    if (res.status === 200) {
      return;
    }
    last = `status ${res.status}${res.error ? ` (${res.error})` : ''}`;
    sleep(2);
  }
  fail(`${url} not ready within ${__ENV.READY_TIMEOUT || '5m'}: last ${last}`);
}

/** Unexpected answers each VU has printed so far (see checkStatus). */
let unexpectedPrinted = 0;
const UNEXPECTED_PRINT_LIMIT = 3;

/**
 * Checks a response status, naming the check after the request (and tagging it with
 * `tags`, e.g. `{ kind: 'read' }`, when given). The first few
 * unexpected answers of each VU are printed (status, transport error, problem type
 * and detail), so that a failed check in a summary can be traced to what came back.
 */
export function checkStatus(res, expected, name, tags) {
  const wanted = Array.isArray(expected) ? expected : [expected];
  const label = `${name || 'request'} status is ${wanted.join(' or ')}`;
  const ok = check(res, { [label]: (r) => wanted.includes(r.status) }, tags);
  if (!ok && unexpectedPrinted < UNEXPECTED_PRINT_LIMIT) {
    unexpectedPrinted += 1;
    console.warn(`${label}: got ${describeAnswer(res)}`);
  }
  return ok;
}

/** A short account of an answer: status, transport error, and problem type and detail. */
export function describeAnswer(res) {
  let text = `${res.status}`;
  if (res.error) {
    text += ` (${res.error})`;
  }
  const type = String(res.headers['Content-Type'] || '');
  if (type.startsWith('application/problem+json')) {
    try {
      const problem = JSON.parse(String(res.body));
      text += ` ${problem.type || ''}: ${String(problem.detail || problem.title || '').slice(0, 200)}`;
    } catch (_) {
      // An unparsable problem body: the status says enough.
    }
  }
  return text;
}

/**
 * `headers` (x-fault-* asking the app for a fault) plus the admin token they need in
 * x-fault-token: the app refuses fault headers without it (403).
 * @param {Record<string, string>} headers
 * @returns {Record<string, string>}
 */
export function faultHeaders(headers) {
  return Object.assign({ 'x-fault-token': __ENV.FAULT_TOKEN || '' }, headers);
}

/** Picks an entry of `[weight, value]` pairs in proportion to the weights. */
export function weighted(pairs) {
  const total = pairs.reduce((sum, [weight]) => sum + weight, 0);
  let pick = Math.random() * total;
  for (const [weight, value] of pairs) {
    pick -= weight;
    if (pick < 0) {
      return value;
    }
  }
  return pairs[pairs.length - 1][1];
}
