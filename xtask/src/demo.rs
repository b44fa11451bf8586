//! `cargo xtask demo`: the main job without Kubernetes. Starts the real services and
//! every app that exists, runs each app's k6 smoke profile, prints what the load
//! measured and how to attach OBI to these processes, then keeps everything running
//! until Ctrl-C and stops it cleanly.

use std::sync::mpsc;

use anyhow::{Context, Result, bail};

use crate::apps::{self, App, Protocol};
use crate::process::AppProcess;
use crate::{k6, paths, services};

/// Runs the demo until Ctrl-C or SIGTERM.
pub fn run() -> Result<()> {
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;

    services::up()?;
    let apps = apps::existing();
    if apps.is_empty() {
        eprintln!("demo: no app exists yet under apps/; only the backing services run");
    } else {
        crate::process::build_release(&apps)?;
    }
    let dir = paths::target().join("demo");
    std::fs::create_dir_all(&dir)?;

    let mut running = Vec::new();
    let outcome = start_and_load(&apps, &dir, &mut running, &stop_rx);
    if outcome.is_ok() {
        print_obi_instructions(&apps, &dir)?;
        eprintln!("\ndemo: running; press Ctrl-C to stop everything");
        let _ = stop_rx.recv();
    }
    eprintln!("\ndemo: stopping");
    for process in &mut running {
        process.stop();
    }
    services::down()?;
    eprintln!("demo: stopped cleanly");
    outcome
}

fn start_and_load(
    apps: &[&'static App],
    dir: &std::path::Path,
    running: &mut Vec<AppProcess>,
    stop: &mpsc::Receiver<()>,
) -> Result<()> {
    for app in apps {
        running.push(AppProcess::start(app, dir)?);
    }
    let mut rows = Vec::new();
    for process in running.iter() {
        if stop.try_recv().is_ok() {
            bail!("interrupted");
        }
        let script = process.app.k6_script();
        if !script.is_file() {
            eprintln!(
                "demo: {} has no k6 script at {} yet",
                process.app.name,
                script.display()
            );
            continue;
        }
        let run = k6::Run {
            script,
            env: vec![
                ("TARGET_URL".into(), process.app.base_url()),
                (
                    "FAULT_TOKEN".into(),
                    crate::process::LOCAL_ADMIN_TOKEN.into(),
                ),
                ("K6_PROFILE".into(), "smoke".into()),
            ],
            summary: dir.join(format!("{}-smoke.json", process.app.name)),
            protocol: process.app.protocol,
        };
        rows.push((process.app.name, run.execute()?));
    }
    if !rows.is_empty() {
        eprintln!("\napp                  req/s     p50 ms    p99 ms   errors  thresholds");
        for (name, s) in &rows {
            eprintln!(
                "{name:<18} {:>8.1} {:>10.2} {:>9.2} {:>7.2}%  {}",
                s.rate,
                s.p50_ms,
                s.p99_ms,
                s.error_rate * 100.0,
                if s.thresholds_ok { "ok" } else { "FAILED" }
            );
        }
    }
    Ok(())
}

/// Writes a standalone OBI config for these processes and says how to run OBI.
fn print_obi_instructions(apps: &[&App], dir: &std::path::Path) -> Result<()> {
    let ports: Vec<String> = apps.iter().map(|app| app.port.to_string()).collect();
    let config = dir.join("obi-local.yaml");
    std::fs::write(&config, obi_local_config(&ports))?;
    let has_grpc = apps.iter().any(|app| app.protocol == Protocol::Grpc);
    eprintln!(
        "\nAttach OBI to these processes (needs Linux >= 5.8 with BTF, and root):\n\
         \n  sudo OTEL_EBPF_CONFIG_PATH={config} obi\n\
         \nThe config instruments the apps by their ports ({ports}), names routes from\n\
         values/obi.yaml's patterns, prints spans on stdout (trace_printer: text) and serves\n\
         Prometheus metrics on http://127.0.0.1:9400/metrics. Start OBI before the apps, or\n\
         wait a few minutes: pools recycle, so connections opened earlier become visible.{grpc}",
        config = config.display(),
        ports = if ports.is_empty() {
            "none yet".to_owned()
        } else {
            ports.join(",")
        },
        grpc = if has_grpc {
            "\ngRPC calls on connections older than OBI show the method `*`."
        } else {
            ""
        },
    );
    Ok(())
}

fn obi_local_config(ports: &[String]) -> String {
    let routes = crate::charts::obi_standalone_routes().unwrap_or_else(|err| {
        eprintln!("demo: no route patterns ({err:#}); OBI will guess routes");
        "routes:\n  unmatched: heuristic\n".to_owned()
    });
    format!(
        "# Standalone OBI config for `cargo xtask demo` (generated; not committed).\n\
         discovery:\n  instrument:\n    - open_ports: \"{ports}\"\n\
         trace_printer: text\n\
         ebpf:\n  context_propagation: all\n\
         prometheus_export:\n  port: 9400\n  path: /metrics\n\
         {routes}",
        ports = if ports.is_empty() {
            "8080-8083,50051".to_owned()
        } else {
            ports.join(",")
        },
    )
}
