//! The kit every obi-examples service is built from: the application skeleton
//! ([`app`]: routes, probes, admin, background tasks, serve, drain), layered
//! configuration, JSON logs, health endpoints, graceful shutdown, the fault model, and
//! problem+json errors.
//!
//! Nothing here exports telemetry: every span and metric of our services comes from
//! OBI, outside the process. Logs are the only signal an app emits itself.

pub mod app;
pub mod body;
pub mod config;
pub mod faults;
pub mod health;
pub mod input;
pub mod logging;
pub mod problem;
pub mod server;
pub mod shutdown;
pub mod tasks;

/// Every app (and its tests) allocates with mimalloc rather than glibc's malloc: a
/// request on poem allocates dozens of small blocks (boxed futures of each layer,
/// headers, the body), and under wrk glibc's `malloc`/`free` took about a fifth of
/// http-rest-api's CPU on its read path (perf, docs/performance.md). One allocator
/// for all, set here so that no app can differ.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
