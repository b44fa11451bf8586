//! What is inside an image, as others will read it: an SBOM per image (syft,
//! from the image archive: the Debian packages from the dpkg status file and the
//! Rust crates from the dependency list cargo-auditable embedded in the binary),
//! and a check that the embedded list is the app's real dependency tree.
//!
//! syft rather than `rust-audit-info` alone: it reads both halves (the base's
//! packages and our crates), writes the standard formats (SPDX, CycloneDX) that
//! scanners and registries accept, and is the tool GitHub's `anchore/sbom-action`
//! runs, so both sides describe the images the same way. Built from the Go
//! module proxy by `cargo xtask tools` (Apache-2.0).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::out_dir;
use crate::{ci, cmd};

/// `target/images/<name>.spdx.json`: the SBOM kept as the build's artefact.
pub fn spdx_path(name: &str) -> PathBuf {
    out_dir().join(format!("{name}.spdx.json"))
}

/// `target/images/<name>.syft.json`: syft's own, richer format (what the check reads).
fn syft_path(name: &str) -> PathBuf {
    out_dir().join(format!("{name}.syft.json"))
}

/// Writes the SBOMs of the image saved in `archive`.
pub fn write_sbom(name: &str, archive: &Path) -> Result<()> {
    cmd::output(
        cmd::new("syft")
            .arg("scan")
            .arg(format!("docker-archive:{}", archive.display()))
            .args(["--quiet", "--output"])
            .arg(format!("spdx-json={}", spdx_path(name).display()))
            .arg("--output")
            .arg(format!("syft-json={}", syft_path(name).display()))
            // Offline: no update check, nothing fetched.
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"),
    )
    .with_context(|| format!("cannot write the SBOM of {name} (run `cargo xtask tools`)"))?;
    Ok(())
}

/// A package, by name and version.
pub type Package = (String, String);

/// What the SBOM of an image lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listed {
    /// Rust crates read from the binary's embedded dependency list.
    pub crates: BTreeSet<Package>,
    /// Debian packages read from the dpkg status.
    pub debs: BTreeSet<Package>,
}

/// Reads the syft SBOM of `name`.
pub fn listed(name: &str) -> Result<Listed> {
    let path = syft_path(name);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (run `cargo xtask images build`)",
            path.display()
        )
    })?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    Ok(parse_syft(&doc))
}

fn parse_syft(doc: &Value) -> Listed {
    let mut listed = Listed::default();
    for artifact in doc["artifacts"].as_array().into_iter().flatten() {
        let package = (
            artifact["name"].as_str().unwrap_or_default().to_owned(),
            artifact["version"].as_str().unwrap_or_default().to_owned(),
        );
        match artifact["type"].as_str() {
            Some("rust-crate") => {
                listed.crates.insert(package);
            }
            Some("deb") => {
                listed.debs.insert(package);
            }
            _ => {}
        }
    }
    listed
}

/// The crates Cargo links into `app`'s binary for this platform: `cargo tree` of
/// its normal dependencies without proc-macros (features resolved for that package
/// alone, as `cargo build -p <app>` does). cargo-auditable records the same
/// runtime crates, leaving out build dependencies and proc-macros.
pub fn cargo_tree(app: &str) -> Result<BTreeSet<Package>> {
    let out = cmd::output(ci::cargo().args([
        "tree",
        "--locked",
        "--offline",
        "--package",
        app,
        "--edges",
        "normal,no-proc-macro",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]))?;
    Ok(parse_tree(&out))
}

/// `name vX.Y.Z [(path)] [(*)]` lines.
fn parse_tree(out: &str) -> BTreeSet<Package> {
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect()
}

/// Compares the crates in the image with Cargo's tree: every crate Cargo links in
/// is listed, and the app itself at its real version. A few more may be listed:
/// cargo-auditable reads `cargo metadata`, whose resolve unifies features across
/// the workspace, so crates another member enables can appear; those are
/// returned, not failed on.
pub fn compare(
    app: &str,
    version: &str,
    in_image: &BTreeSet<Package>,
    cargo: &BTreeSet<Package>,
) -> Result<Vec<Package>> {
    let mut problems = Vec::new();
    if !in_image.contains(&(app.to_owned(), version.to_owned())) {
        let found: Vec<_> = in_image.iter().filter(|(n, _)| n == app).collect();
        problems.push(format!(
            "{app} {version} itself is not listed (found {found:?}); a build that \
             kept cargo-chef's masked manifest versions would show 0.0.1 here"
        ));
    }
    let missing: Vec<_> = cargo.difference(in_image).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "linked by Cargo but not in the image's list: {missing:?}"
        ));
    }
    if problems.is_empty() {
        Ok(in_image.difference(cargo).cloned().collect())
    } else {
        bail!(
            "{app}: the embedded dependency list does not match Cargo: {}",
            problems.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(items: &[(&str, &str)]) -> BTreeSet<Package> {
        items
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn syft_artifacts_are_split_into_crates_and_debian_packages() {
        let doc = json!({"artifacts": [
            {"name": "tokio", "version": "1.48.0", "type": "rust-crate"},
            {"name": "libc6", "version": "2.36-9+deb12u14", "type": "deb"},
            {"name": "something", "version": "1", "type": "binary"}
        ]});
        let listed = parse_syft(&doc);
        assert_eq!(listed.crates, set(&[("tokio", "1.48.0")]));
        assert_eq!(listed.debs, set(&[("libc6", "2.36-9+deb12u14")]));
    }

    #[test]
    fn cargo_tree_lines_give_names_and_versions() {
        let out = "redis-cache v0.1.0 (/w/apps/redis-cache)\ntokio v1.48.0\ntokio v1.48.0 (*)\nserde v1.0.228\n";
        assert_eq!(
            parse_tree(out),
            set(&[
                ("redis-cache", "0.1.0"),
                ("serde", "1.0.228"),
                ("tokio", "1.48.0")
            ])
        );
    }

    #[test]
    fn a_matching_list_passes_and_every_difference_is_named() {
        let cargo = set(&[("app", "0.1.0"), ("tokio", "1.48.0"), ("serde", "1.0.228")]);
        assert!(compare("app", "0.1.0", &cargo, &cargo).unwrap().is_empty());

        // Extra crates (workspace feature unification) are returned, not failed on.
        let more = set(&[
            ("app", "0.1.0"),
            ("tokio", "1.48.0"),
            ("serde", "1.0.228"),
            ("want", "0.3.2"),
        ]);
        assert_eq!(
            compare("app", "0.1.0", &more, &cargo).unwrap(),
            [("want".into(), "0.3.2".into())]
        );

        // What a build on cargo-chef's skeleton manifests would embed.
        let masked = set(&[("app", "0.0.1"), ("tokio", "1.48.0"), ("serde", "1.0.228")]);
        let err = compare("app", "0.1.0", &masked, &cargo)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("0.0.1") && err.contains("itself is not listed"),
            "{err}"
        );

        let stale = set(&[("app", "0.1.0"), ("tokio", "1.47.0"), ("serde", "1.0.228")]);
        let err = compare("app", "0.1.0", &stale, &cargo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"1.48.0\""), "{err}");
    }
}
