// k6 provides `console` as a global (https://grafana.com/docs/k6/latest/javascript-api/),
// which @types/k6 does not declare and the `es2022` lib has not got.
declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
};
