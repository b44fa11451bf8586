//! Talking to the cluster: `kubectl` and `helm` as its admin, and what the API
//! server answers besides success: rejections (a failed command, whose standard
//! error carries the server's message) and warnings (HTTP `Warning` headers,
//! which both clients print and neither counts as a failure).

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::Layout;
use super::pki;
use crate::{cmd, paths};

/// `kubectl` of the tool cache, as the cluster's admin.
pub fn kubectl(layout: &Layout) -> Command {
    let mut command = cmd::new(paths::tools_bin().join("kubectl"));
    command.env("KUBECONFIG", layout.pki().kubeconfig(pki::ADMIN));
    command
}

/// `helm` of the tool cache, as the cluster's admin.
pub fn helm(layout: &Layout) -> Command {
    let mut command = cmd::new(paths::tools_bin().join("helm"));
    command.env("KUBECONFIG", layout.pki().kubeconfig(pki::ADMIN));
    command
}

/// Runs a client command that talks to the API server. Fails when it fails (with
/// its standard error, where the server's message is) and when the server sent
/// any warning; otherwise returns its standard output.
pub fn run(command: &mut Command) -> Result<String> {
    run_with_input(command, None)
}

/// [`run`] with `input` on the command's standard input (manifests for `-f -`).
pub fn run_with_input(command: &mut Command, input: Option<&str>) -> Result<String> {
    let shown = display(command);
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if let Some(input) = input {
        let mut stdin = child.stdin.take().context("no stdin")?;
        stdin
            .write_all(input.as_bytes())
            .with_context(|| format!("cannot write to `{shown}`"))?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("`{shown}` did not finish"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!(
            "`{shown}` failed ({}); the API server said:\n{}",
            out.status,
            indent(stderr.trim())
        );
    }
    let warnings = server_warnings(&stderr);
    if !warnings.is_empty() {
        bail!(
            "`{shown}` drew {} warning(s) from the API server:\n{}",
            warnings.len(),
            indent(&warnings.join("\n"))
        );
    }
    Ok(stdout)
}

/// The API server's warnings in a client's standard error.
///
/// kubectl prints each as `Warning: <text>`. helm leaves them to client-go's
/// default handler, which logs through klog: `I1203 10:00:00.000000  42
/// warnings.go:110] "Warning: <text>"` (older client-go: `W... warnings.go:70]
/// <text>`). Other log lines are not warnings from the server.
pub fn server_warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| {
            if let Some(text) = line.strip_prefix("Warning: ") {
                return Some(text.trim().to_owned());
            }
            let (header, text) = line.split_once("] ")?;
            let is_klog = header
                .chars()
                .next()
                .is_some_and(|severity| "IWEF".contains(severity))
                && header.contains(" warnings.go:");
            if !is_klog {
                return None;
            }
            let text = text.trim();
            let text = text
                .strip_prefix('"')
                .and_then(|quoted| quoted.strip_suffix('"'))
                .map(|quoted| quoted.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| text.to_owned());
            Some(
                text.strip_prefix("Warning: ")
                    .map(str::to_owned)
                    .unwrap_or(text),
            )
        })
        .collect()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn display(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or(&program).to_owned();
    std::iter::once(program)
        .chain(
            command
                .get_args()
                .map(|arg| arg.to_string_lossy().into_owned()),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_found_in_kubectl_and_helm_output() {
        let stderr = "\
Warning: would violate PodSecurity \"restricted:latest\": runAsNonRoot != true
I1203 10:00:00.000000   42 warnings.go:110] \"Warning: would violate PodSecurity \\\"restricted:latest\\\": seccompProfile\"
W1203 10:00:00.000000   42 warnings.go:70] spec.template.spec.containers[0].env[1]: hides previous definition
I1203 10:00:00.000000   42 round_trippers.go:560] GET https://127.0.0.1:6443/api 200 OK
W1203 10:00:00.000000   42 reflector.go:9] watch ended
walk.go:74: found symbolic link in path
";
        assert_eq!(
            server_warnings(stderr),
            [
                "would violate PodSecurity \"restricted:latest\": runAsNonRoot != true",
                "would violate PodSecurity \"restricted:latest\": seccompProfile",
                "spec.template.spec.containers[0].env[1]: hides previous definition",
            ]
        );
    }

    #[test]
    fn a_clean_run_has_no_warnings() {
        assert!(server_warnings("NAME: obi-examples\nSTATUS: deployed\n").is_empty());
    }

    #[test]
    fn a_warning_fails_a_successful_command() {
        let err = run(Command::new("sh").args([
            "-c",
            "echo 'Warning: spec.foo is deprecated' >&2; echo done",
        ]))
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("1 warning(s)"), "{message}");
        assert!(message.contains("spec.foo is deprecated"), "{message}");
    }

    #[test]
    fn a_failure_shows_the_servers_message() {
        let err = run(Command::new("sh").args([
            "-c",
            "echo 'Error: pods \"x\" is forbidden: violates PodSecurity' >&2; exit 1",
        ]))
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("violates PodSecurity"), "{message}");
        assert_eq!(run(Command::new("echo").arg("fine")).unwrap(), "fine\n");
    }
}
