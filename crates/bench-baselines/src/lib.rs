//! Physical baselines for `cargo xtask bench`: minimal servers on the same stacks
//! as the apps, so an app's throughput can be read as a share of its stack's limit.
//! The binaries live in `src/bin/`.
//!
//! `openload` is the bench's own client: HTTP/1.1 and gRPC unary, closed or open
//! model (latency from each request's due time), light enough not to be what
//! saturates first.
