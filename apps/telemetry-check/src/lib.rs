//! telemetry-check: asserts that OBI's telemetry for an app reached the backends,
//! from declarative spec files (docs/telemetry-checks.md).

pub mod attempt;
pub mod backend;
pub mod cli;
pub mod compare;
pub mod jaeger;
pub mod kube;
pub mod otlp_json;
pub mod placeholders;
pub mod prometheus;
pub mod promql;
pub mod report;
pub mod run;
pub mod spans;
pub mod spec;
#[cfg(test)]
mod stand_in;
pub mod tempo;
pub mod traces;
