// Load script of http-rest-api: its traffic mix only; profiles, thresholds, checks and the
// readiness wait come from the shared library ./obi-examples.js.
//
// PLACEHOLDER until the http-rest-api protocol issue writes the real mix (every route,
// errors, faults, business metrics): it only exercises the health endpoint so the
// hook Job wiring can be installed and tested end to end.

import http from 'k6/http';
import { buildOptions, checkStatus, targetUrl, waitForReady } from './obi-examples.js';

export const options = buildOptions();

export function setup() {
  waitForReady();
}

export default function () {
  const res = http.get(`${targetUrl()}/healthz`, { tags: { name: 'healthz' } });
  checkStatus(res, 200, 'healthz');
}
