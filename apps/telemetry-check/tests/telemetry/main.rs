//! Tier 3: telemetry-check against a real Prometheus and a real Jaeger loaded with
//! OBI-shaped telemetry from a fixture that lives in this test code only.

mod backends;
mod charts;
mod cli;
mod dashboards;
mod exposition;
mod fixture;
mod mutate;
mod otlp;
mod samples;
mod scenario;
mod specs;
mod stitching;
mod traceql;
