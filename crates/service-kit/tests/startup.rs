//! Start-up with a bad configuration, in a real process: the process stops with
//! exit code 2 and a message naming the key. The test binary re-runs itself as that
//! process (`STARTUP_CHILD` set), so no extra binary is needed.

use std::process::Command;

use serde::Deserialize;
use service_kit::config::{Check, ServerSettings, Validate, load_or_exit};

const DEFAULTS: &str =
    "server: {host: 127.0.0.1, port: 0, drain_timeout: 1s, max_body_bytes: 65536}\n";

#[derive(Debug, Deserialize)]
// Read only through serde: the test checks loading, not the values.
#[allow(dead_code)]
struct Settings {
    server: ServerSettings,
}

impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
    }
}

/// Runs only as the child: loads the configuration the way an app's `main` does.
#[test]
fn child_main() {
    if std::env::var_os("STARTUP_CHILD").is_none() {
        return;
    }
    let settings: Settings = load_or_exit("startup-test", DEFAULTS);
    println!("started on port {}", settings.server.port);
}

fn run_child(env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", "child_main", "--nocapture", "--test-threads=1"]);
    command
        .env("STARTUP_CHILD", "1")
        .env_remove("APP_CONFIG_FILE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn a_mistyped_key_stops_startup_with_a_message_naming_it() {
    let output = run_child(&[("APP__SERVER__PROT", "8080")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("startup-test: configuration error"),
        "{stderr}"
    );
    assert!(stderr.contains("`server.prot`"), "{stderr}");
    assert!(stderr.contains("APP__SERVER__PROT"), "{stderr}");
}

#[test]
fn a_good_configuration_starts() {
    let output = run_child(&[("APP__SERVER__PORT", "9999")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("started on port 9999"), "{stdout}");
}

#[test]
fn a_value_out_of_its_range_stops_startup_naming_the_key() {
    let output = run_child(&[("APP__SERVER__MAX_BODY_BYTES", "0")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`server.max_body_bytes`"), "{stderr}");
}
