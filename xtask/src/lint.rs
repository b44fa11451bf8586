//! Lints for what cannot run on this machine: the GitHub workflows (actionlint, which
//! also runs shellcheck over their `run:` scripts), the scripts they call under
//! `.ci/` (shellcheck, `bash -n`), and the Dockerfile (hadolint).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::{cmd, paths};

/// Runs the linters; fails naming the first that found something.
pub fn check() -> Result<()> {
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
