//! Physical baselines for `cargo xtask bench`: minimal servers on the same stacks
//! as the apps, so an app's throughput can be read as a share of its stack's limit.
//! The binaries live in `src/bin/`.
