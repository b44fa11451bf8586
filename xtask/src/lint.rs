//! Lints for what cannot run on this machine: the GitHub workflows (actionlint, which
//! also runs shellcheck over their `run:` scripts), the scripts they call under
//! `.ci/` (shellcheck, `bash -n`), and the Dockerfile (hadolint); and that the
//! workflows set up the helm, ct and Rust versions the local gate runs with.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::{cmd, paths, tools};

/// Workflow `env:` variables that must equal a pin of the local gate: the tool the
/// workflow sets up is then the one the gate ran with.
const TOOL_PINS: &[(&str, &str)] = &[("HELM_VERSION", "helm"), ("CT_VERSION", "ct")];

/// Every workflow's tool versions agree with the local gate's pins: HELM_VERSION
/// and CT_VERSION with `cargo xtask tools`, RUST_TOOLCHAIN with the Dockerfile's
/// builder image (`rust:<version>-...`).
fn workflow_pins() -> Result<Vec<String>> {
    let root = paths::root();
    let dockerfile =
        std::fs::read_to_string(root.join("Dockerfile")).context("reading Dockerfile")?;
    let rust =
        dockerfile_rust(&dockerfile).context("Dockerfile: no BUILDER_IMAGE=rust:<version>")?;
    let mut problems = Vec::new();
    let dir = root.join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        problems.extend(pin_problems(&name, &text, &rust, tools::go_tool_pin));
    }
    Ok(problems)
}

/// The Rust version of `ARG BUILDER_IMAGE=rust:1.95-bookworm`.
fn dockerfile_rust(dockerfile: &str) -> Option<String> {
    dockerfile.lines().find_map(|line| {
        let image = line.trim().strip_prefix("ARG BUILDER_IMAGE=rust:")?;
        Some(image.split('-').next()?.to_owned())
    })
}

/// The mismatches of one workflow's top-level `env:` pins.
fn pin_problems(
    name: &str,
    workflow: &str,
    rust: &str,
    pin: impl Fn(&str) -> Option<&'static str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for line in workflow.lines() {
        let Some((key, value)) = line.strip_prefix("  ").and_then(|l| l.split_once(':')) else {
            continue;
        };
        if key.starts_with(' ') {
            continue;
        }
        let value = value.trim().trim_matches('"');
        let expected = match key {
            "RUST_TOOLCHAIN" => Some(rust.to_owned()),
            _ => TOOL_PINS
                .iter()
                .find(|(var, _)| *var == key)
                .and_then(|(_, tool)| pin(tool))
                .map(str::to_owned),
        };
        if let Some(expected) = expected
            && value != expected
        {
            problems.push(format!(
                "{name}: {key} is {value}, the local gate uses {expected}"
            ));
        }
    }
    problems
}

/// Runs the linters; fails naming the first that found something.
pub fn check() -> Result<()> {
    let problems = workflow_pins()?;
    if !problems.is_empty() {
        bail!(
            "workflows and the local gate disagree:\n  {}",
            problems.join("\n  ")
        );
    }
    cmd::run(cmd::new("actionlint").arg("-no-color"))?;
    let scripts = ci_scripts()?;
    for script in &scripts {
        cmd::run(cmd::new("bash").arg("-n").arg(script))?;
    }
    // -x follows what the scripts source; paths relative to the repository root.
    cmd::run(
        cmd::new("shellcheck")
            .args(["-x", "--source-path=SCRIPTDIR"])
            .args(&scripts)
            .current_dir(paths::root()),
    )?;
    cmd::run(cmd::new("hadolint").arg("Dockerfile"))
}

/// `.ci/run` and every `.ci/**/*.sh`, sorted.
fn ci_scripts() -> Result<Vec<PathBuf>> {
    let root = paths::root().join(".ci");
    let mut scripts = vec![root.join("run")];
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "sh") {
                scripts.push(path);
            }
        }
    }
    scripts.sort();
    Ok(scripts)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Runs .ci/kind/kernel-check.sh with the given kernel facts.
    fn kernel_check(release: &str, btf: Option<&str>, kconfig: &str) -> (bool, String) {
        let dir = std::env::temp_dir().join(format!(
            "obi-examples-kernel-check-{}-{release}-{}",
            std::process::id(),
            btf.is_some()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let btf_path = dir.join("vmlinux");
        let _ = std::fs::remove_file(&btf_path);
        if let Some(content) = btf {
            std::fs::write(&btf_path, content).unwrap();
        }
        let config = dir.join("config");
        std::fs::write(&config, kconfig).unwrap();
        let output = Command::new("bash")
            .arg(paths::root().join(".ci/kind/kernel-check.sh"))
            .env("KERNEL_RELEASE", release)
            .env("BTF_FILE", &btf_path)
            .env("KCONFIG_FILE", &config)
            .env("GITHUB_ACTIONS", "true")
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    #[test]
    fn the_kernel_check_passes_a_kernel_obi_can_run_on() {
        let (ok, out) = kernel_check("6.8.0-1021-azure", Some("btf"), "CONFIG_KPROBES=y\n");
        assert!(ok, "{out}");
        assert!(!out.contains("::error"), "{out}");
    }

    #[test]
    fn the_kernel_check_names_each_missing_requirement() {
        let (ok, out) = kernel_check("5.4.0-42-generic", Some("btf"), "CONFIG_KPROBES=y\n");
        assert!(!ok);
        assert!(
            out.contains(
                "::error title=OBI kernel requirements::kernel 5.4.0-42-generic is older than 5.8"
            ),
            "{out}"
        );
        let (ok, out) = kernel_check("6.8.0", None, "CONFIG_KPROBES=y\n");
        assert!(!ok);
        assert!(out.contains("no BTF at"), "{out}");
        let (ok, out) = kernel_check("6.8.0", Some("btf"), "# CONFIG_KPROBES is not set\n");
        assert!(!ok);
        assert!(out.contains("no kprobes"), "{out}");
    }

    /// capture-logs.sh follows each load and test pod once, into its own file, and
    /// leaves no follower behind when stopped (a fake kubectl stands in for the
    /// cluster: it lists two pods and "follows" each for a minute).
    #[test]
    fn capture_logs_keeps_each_pods_log_and_stops_cleanly() {
        let dir = std::env::temp_dir().join(format!("obi-examples-capture-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let kubectl = bin.join("kubectl");
        std::fs::write(
            &kubectl,
            "#!/bin/sh\ncase \"$*\" in\n  *'get pods'*) printf 'web-k6-a\\nweb-telemetry-check\\n' ;;\n  *'logs --follow'*) echo \"report of $5\"; exec sleep 60 ;;\nesac\n",
        )
        .unwrap();
        std::fs::set_permissions(
            &kubectl,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let out = dir.join("out");
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let mut child = Command::new("bash")
            .arg(paths::root().join(".ci/kind/capture-logs.sh"))
            .args(["demo".as_ref(), out.as_os_str()])
            .env("PATH", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let logs = ["web-k6-a", "web-telemetry-check"].map(|pod| out.join(format!("{pod}.log")));
        let started = std::time::Instant::now();
        while !logs
            .iter()
            .all(|log| std::fs::read_to_string(log).is_ok_and(|t| !t.is_empty()))
        {
            assert!(
                started.elapsed().as_secs() < 20,
                "no logs in {}",
                out.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let status = Command::new("kill")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        assert!(child.wait().unwrap().success(), "SIGTERM is a normal stop");
        for (log, pod) in logs.iter().zip(["web-k6-a", "web-telemetry-check"]) {
            assert_eq!(
                std::fs::read_to_string(log).unwrap(),
                format!("report of {pod}\n")
            );
        }
        let left = Command::new("pgrep")
            .args(["-f", "sleep 60"])
            .output()
            .unwrap();
        let mine: Vec<String> = String::from_utf8_lossy(&left.stdout)
            .lines()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.contains(&path))
            })
            .map(str::to_owned)
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        for pid in &mine {
            let _ = Command::new("kill").arg(pid).status();
        }
        assert!(mine.is_empty(), "followers left running: {mine:?}");
    }

    #[test]
    fn the_workflows_use_the_local_gates_pins() {
        assert_eq!(workflow_pins().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_workflow_pin_other_than_the_gates_fails() {
        let pin = |tool: &str| match tool {
            "helm" => Some("v3.19.0"),
            "ct" => Some("v3.14.0"),
            _ => None,
        };
        let good =
            "env:\n  HELM_VERSION: v3.19.0\n  CT_VERSION: v3.14.0\n  RUST_TOOLCHAIN: \"1.95\"\n";
        assert!(pin_problems("x.yml", good, "1.95", pin).is_empty());
        let bad = "env:\n  HELM_VERSION: v3.18.0\n  RUST_TOOLCHAIN: \"1.94\"\njobs:\n  a:\n    env:\n      CT_VERSION: v1\n";
        assert_eq!(
            pin_problems("x.yml", bad, "1.95", pin),
            [
                "x.yml: HELM_VERSION is v3.18.0, the local gate uses v3.19.0",
                "x.yml: RUST_TOOLCHAIN is 1.94, the local gate uses 1.95"
            ]
        );
        assert_eq!(
            dockerfile_rust("ARG BUILDER_IMAGE=rust:1.95-bookworm\n").as_deref(),
            Some("1.95")
        );
    }

    #[test]
    fn every_ci_script_is_found() {
        let scripts = ci_scripts().unwrap();
        for name in [
            "run",
            "kind/kernel-check.sh",
            "kind/setup.sh",
            "kind/collect.sh",
        ] {
            assert!(
                scripts.iter().any(|s| s.ends_with(name)),
                "{name} missing from {scripts:?}"
            );
        }
    }
}
