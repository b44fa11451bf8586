//! The demo's lifecycle end to end, on loopback with the real services, apps, k6,
//! Prometheus and Jaeger: start, live load, a fault switched from the terminal
//! and seen in the numbers, `demo check` failing with "no data" (there is no OBI
//! here), SIGTERM, and no process of the demo left afterwards.
//!
//! Uses the demo's fixed ports (the apps', 9090, 16686, 4317/4318), like the gate's
//! k6 step; it fails, naming the holder, when one is taken.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PORTS: [u16; 9] = [8080, 8081, 8082, 8083, 50051, 9090, 16686, 4317, 4318];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

/// Processes of this checkout's demo: its debug apps, and k6 or Prometheus
/// working under its `target/demo/`.
fn leftovers() -> Vec<String> {
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let apps: Vec<String> = [
        "http-rest-api",
        "grpc-microservice",
        "sql-application",
        "redis-cache",
        "kafka-streaming",
    ]
    .iter()
    .map(|app| target_dir.join("debug").join(app).display().to_string())
    .collect();
    let demo_dir = root().join("target/demo").display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if state.contains(") Z ") {
            continue;
        }
        let ours = apps
            .iter()
            .any(|app| cmdline.starts_with(&format!("{app} ")))
            || (cmdline.contains(&demo_dir) && !cmdline.contains("xtask"));
        if ours {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn the_demo_serves_load_switches_a_fault_and_stops_leaving_no_process() {
    for port in PORTS {
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is taken: the demo needs it (`ss -ltnp | grep :{port}` names the holder)"
        );
    }
    let mut demo = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--debug"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask demo starts");
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stderr = demo.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str, limit: Duration| {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("no `{needle}` in the demo's output:\n{}", seen.join("\n"));
    };

    // The build is a no-op after `cargo test` built the workspace, not otherwise.
    wait_for("demo: steady load", Duration::from_secs(900));
    wait_for("live traffic since", Duration::from_secs(60));

    let switched = xtask(&["demo", "fault", "http", "errors", "on", "--rate", "0.5"]);
    let text = String::from_utf8_lossy(&switched.stdout);
    assert!(
        switched.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&switched.stderr)
    );
    assert!(text.contains("ON  errors"), "{text}");
    let listed = xtask(&["demo", "faults", "sql"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("n_plus_one"), "the app's own catalog: {text}");

    // No OBI on this machine: the checks must fail, saying "no data" and naming
    // what is missing, rather than pass.
    let check = xtask(&["demo", "check", "--app", "http-rest-api", "--timeout", "5s"]);
    let text = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "{text}");
    for expected in [
        "xtask: error: no data",
        "Prometheus cannot scrape OBI at 127.0.0.1:9400",
        "no metric series with service_name=\"http-rest-api\" in Prometheus",
        "no service \"http-rest-api\" in Jaeger",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }

    let stopping = Instant::now();
    let pid = demo.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_for("demo: stopped cleanly", Duration::from_secs(90));
    let status = demo.wait().unwrap();
    reader.join().unwrap();
    let output = seen.join("\n");
    assert!(status.success(), "{status}\n{output}");
    assert!(output.contains("(no process of the demo left)"), "{output}");
    assert!(stopping.elapsed() < Duration::from_secs(60), "{output}");
    assert_eq!(leftovers(), Vec::<String>::new(), "{output}");

    // With the demo gone, the check says where the backends should be.
    let check = xtask(&["demo", "check"]);
    let text = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "{text}");
    assert!(text.contains("start `cargo xtask demo` first"), "{text}");

    // The fault shows in the numbers: http-rest-api failed a share of requests.
    let summary = std::fs::read_to_string(root().join("target/demo/summary.txt")).unwrap();
    let row = summary
        .lines()
        .find(|line| line.starts_with("http-rest-api"))
        .unwrap_or_else(|| panic!("{summary}"));
    let failed: f64 = row
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(
        failed > 1.0,
        "the errors fault is not in the numbers: {summary}"
    );
    for app in ["http-rest-api", "grpc-microservice"] {
        assert!(
            root()
                .join(format!("target/demo/{app}-constant.json"))
                .is_file(),
            "k6's summary of {app} was not saved on exit"
        );
    }
}
