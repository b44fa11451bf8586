//! The helm-test payload: loads the specs, checks them, prints the report and
//! exits 0 (pass), 1 (fail), 2 (bad input) or 3 (backend unreachable).

use std::process::ExitCode;

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = telemetry_check::cli::Args::parse();
    ExitCode::from(telemetry_check::cli::main(args).await)
}
