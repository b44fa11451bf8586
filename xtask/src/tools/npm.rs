//! npm packages of the repository root (TypeScript and `@types/k6`, to type-check
//! the k6 scripts), installed with `npm ci` from the committed lockfile.
//!
//! Unlike the other tools these live in the checkout (`node_modules/`), so the
//! stamp does too: a fresh clone has none and installs, a warm one compares the
//! lockfile's fingerprint and skips `npm ci` (which would reinstall everything).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{Install, Row, stamp};
use crate::{cmd, paths};

/// Runs `npm ci` unless `node_modules/` was installed from this very lockfile.
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let root = paths::root();
    let lockfile = root.join("package-lock.json");
    let lock = fs::read_to_string(&lockfile)
        .with_context(|| format!("cannot read {}", lockfile.display()))?;
    let recipe = format!("package-lock {}", stamp::fingerprint(&lock));
    let modules = root.join("node_modules");
    let stamp_file = modules.join(".obi-examples-stamp");
    let tsc = modules.join(".bin").join("tsc");
    let current = fs::read_to_string(&stamp_file).ok().as_deref() == Some(recipe.as_str());
    if !(current && tsc.is_file()) {
        println!(
            "installing npm packages into {} (npm ci)",
            modules.display()
        );
        cmd::run(cmd::new("npm").args(["ci", "--no-audit", "--no-fund"]))?;
        fs::write(&stamp_file, &recipe)
            .with_context(|| format!("cannot write {}", stamp_file.display()))?;
    }
    for package in ["typescript", "@types/k6"] {
        let dir = modules.join(package);
        install
            .rows
            .push(Row::new(package, installed_version(&dir)?, dir));
    }
    Ok(())
}

/// The `version` of the package installed in `dir`.
fn installed_version(dir: &std::path::Path) -> Result<String> {
    #[derive(Deserialize)]
    struct Manifest {
        version: String,
    }
    let path: PathBuf = dir.join("package.json");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&text).with_context(|| format!("bad {}", path.display()))?;
    Ok(manifest.version)
}
