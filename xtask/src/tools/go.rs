//! Go tools (helm, chart-testing, kubeconform, helm-docs, helm-unittest, actionlint,
//! Jaeger, syft, ghz), built from pinned module versions into the tool cache.
//!
//! Not `go install pkg@version`: that first reads the module's whole version list
//! to look for deprecations, and the module proxy reachable here refuses that list
//! for some modules (chart-testing: 403) while serving the exact version. So each
//! tool's module is fetched with `go mod download` (checked against the checksum
//! database) and built inside its own module, where its `go.sum` verifies every
//! dependency. Building there also lets us pass the `-ldflags` the projects' own
//! release builds pass, so versions and defaults match the published binaries.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::{Install, Row};
use crate::{cmd, paths};

/// The pinned version of the Go tool `name` (e.g. `helm` → `v3.19.0`).
pub fn pin(name: &str) -> Option<&'static str> {
    TOOLS
        .iter()
        .find(|tool| tool.name == name)
        .map(|tool| tool.version)
}

/// A Go program pinned to a module version.
#[derive(Debug)]
struct GoTool {
    /// The binary's name in the tool cache.
    name: &'static str,
    module: &'static str,
    version: &'static str,
    /// The main package, relative to the module root.
    package: &'static str,
    /// `-X` flags as the project's release build sets them; `{version}` is the pin,
    /// `{bare}` the pin without its leading `v`.
    ldflags: &'static [&'static str],
    /// Requirements of the module that `ldflags` hard-code: (module, version prefix).
    /// Checked before building, so bumping a pin cannot silently keep stale flags.
    requires: &'static [(&'static str, &'static str)],
    /// Build tags the project's release build sets (`-tags`).
    tags: &'static [&'static str],
}

const TOOLS: &[GoTool] = &[
    GoTool {
        name: "helm",
        module: "helm.sh/helm/v3",
        version: "v3.19.0",
        package: "./cmd/helm",
        // helm's Makefile derives the Kubernetes version from its client-go (v0.34
        // -> 1.34). Without these, `helm template` and `helm lint` assume v1.20.
        ldflags: &[
            "-X helm.sh/helm/v3/internal/version.version={version}",
            "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1",
            "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=34",
            "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1",
            "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34",
        ],
        requires: &[("k8s.io/client-go", "v0.34.")],
        tags: &[],
    },
    GoTool {
        name: "ct",
        module: "github.com/helm/chart-testing/v3",
        version: "v3.14.0",
        package: "./ct",
        ldflags: &["-X github.com/helm/chart-testing/v3/ct/cmd.Version={version}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        name: "kubeconform",
        module: "github.com/yannh/kubeconform",
        version: "v0.7.0",
        package: "./cmd/kubeconform",
        ldflags: &["-X main.version={version}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        name: "helm-docs",
        module: "github.com/norwoodj/helm-docs",
        version: "v1.14.2",
        package: "./cmd/helm-docs",
        // The version lands in every generated README's footer: it must be the
        // release's spelling (no `v`) or the committed READMEs drift.
        ldflags: &["-X main.version={bare}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        // The helm plugin's binary (`helm unittest` runs it as `untt`); the gate
        // calls it directly, so no plugin directory is needed.
        name: "helm-unittest",
        module: "github.com/helm-unittest/helm-unittest",
        version: "v1.1.2",
        package: "./cmd/helm-unittest",
        // As its Makefile (the version of plugin.yaml, no `v`).
        ldflags: &["-X github.com/helm-unittest/helm-unittest/internal/build.version={bare}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        name: "actionlint",
        module: "github.com/rhysd/actionlint",
        version: "v1.7.12",
        package: "./cmd/actionlint",
        ldflags: &["-X github.com/rhysd/actionlint.version={version}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        name: "jaeger",
        module: "github.com/jaegertracing/jaeger",
        version: "v1.76.0",
        // The v2 all-in-one (an OpenTelemetry Collector distribution); without the
        // `ui` build tag it serves a placeholder page, the query API is complete.
        package: "./cmd/jaeger",
        ldflags: &["-X github.com/jaegertracing/jaeger/internal/version.latestVersion={version}"],
        requires: &[],
        tags: &[],
    },
    GoTool {
        name: "syft",
        module: "github.com/anchore/syft",
        version: "v1.57.2",
        package: "./cmd/syft",
        ldflags: &["-X main.version={bare}"],
        requires: &[],
        // As its release: the pure-Go OpenPGP (no gpgme, no cgo) and no btrfs driver.
        tags: &["containers_image_openpgp", "exclude_graphdriver_btrfs"],
    },
    GoTool {
        // gRPC load for `cargo xtask bench` by hand: several connections, unary and
        // streams, status codes counted (docs/performance.md).
        name: "ghz",
        module: "github.com/bojand/ghz",
        version: "v0.120.0",
        package: "./cmd/ghz",
        ldflags: &["-X main.version={bare}"],
        requires: &[],
        tags: &[],
    },
];

impl GoTool {
    /// Everything that determines the binary: the stamp's value.
    fn recipe(&self) -> String {
        format!(
            "{}@{} {} -ldflags={}{}",
            self.module,
            self.version,
            self.package,
            self.ldflags(),
            self.tags_arg()
                .map(|tags| format!(" {tags}"))
                .unwrap_or_default()
        )
    }

    /// `-tags=a,b`, when the tool has build tags.
    fn tags_arg(&self) -> Option<String> {
        (!self.tags.is_empty()).then(|| format!("-tags={}", self.tags.join(",")))
    }

    fn ldflags(&self) -> String {
        // -s -w: no symbol table or DWARF, as the releases; it halves helm's size.
        let mut flags = vec!["-s".to_owned(), "-w".to_owned()];
        let bare = self.version.trim_start_matches('v');
        flags.extend(self.ldflags.iter().map(|flag| {
            flag.replace("{version}", self.version)
                .replace("{bare}", bare)
        }));
        flags.join(" ")
    }
}

/// Builds every Go tool whose stamp does not match its pin.
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let bin = paths::tools_bin();
    for tool in TOOLS {
        let target = bin.join(tool.name);
        let recipe = tool.recipe();
        if !(target.is_file() && install.stamps.is_current(tool.name, &recipe)) {
            build(tool, &target)?;
            // Recorded only once it proved to start: a failed check is retried.
            if tool.name == "jaeger" {
                super::jaeger::smoke_test(&target)?;
            }
            install.stamps.record(tool.name, &recipe)?;
        }
        install.rows.push(Row::new(tool.name, tool.version, target));
    }
    // Jaeger's configuration is ours, not the build's: keep it current on every run.
    let config = super::jaeger::write_config()?;
    install
        .rows
        .push(Row::new("jaeger config", "in-memory", config));
    Ok(())
}

fn build(tool: &GoTool, target: &Path) -> Result<()> {
    println!("building {} {} (go)", tool.name, tool.version);
    let started = std::time::Instant::now();
    let dir = download(tool.module, tool.version)?;
    let go_mod = fs::read_to_string(dir.join("go.mod"))
        .with_context(|| format!("cannot read {}/go.mod", dir.display()))?;
    for (module, prefix) in tool.requires {
        match required_version(&go_mod, module) {
            Some(version) if version.starts_with(prefix) => {}
            found => bail!(
                "{}@{} requires {module} {found:?}, but its -ldflags assume {prefix}*: update them in {}",
                tool.module,
                tool.version,
                file!()
            ),
        }
    }
    let bin = target.parent().expect("a tool binary has a directory");
    fs::create_dir_all(bin).with_context(|| format!("cannot create {}", bin.display()))?;
    // Build next to the target and rename: a failed build never replaces a working tool.
    let partial = target.with_extension("partial");
    cmd::run(
        go(&dir)
            .args(["build", "-trimpath"])
            .args(tool.tags_arg())
            .arg(format!("-ldflags={}", tool.ldflags()))
            .arg("-o")
            .arg(&partial)
            .arg(tool.package),
    )?;
    fs::rename(&partial, target)
        .with_context(|| format!("cannot move the build to {}", target.display()))?;
    println!(
        "built {} in {:.0}s",
        target.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Fetches `module@version` into the module cache (verified against the checksum
/// database) and returns its directory.
pub(super) fn download(module: &str, version: &str) -> Result<PathBuf> {
    #[derive(Deserialize)]
    struct Download {
        #[serde(rename = "Dir")]
        dir: Option<PathBuf>,
        #[serde(rename = "Error")]
        error: Option<String>,
    }
    // Outside any module, so that no go.mod of ours takes part in resolution.
    let outside = paths::cache();
    fs::create_dir_all(&outside)?;
    // Not `cmd::output`: on failure `go mod download -json` exits 1 and puts the
    // reason in the JSON's Error field, not on stderr.
    let out = go(&outside)
        .args(["mod", "download", "-json", &format!("{module}@{version}")])
        .output()
        .context("cannot run `go` (is Go installed and on PATH?)")?;
    let json = String::from_utf8_lossy(&out.stdout);
    let download: Download = serde_json::from_str(&json).with_context(|| {
        format!(
            "`go mod download {module}@{version}` failed: {}{json}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    match (download.dir, download.error) {
        (_, Some(error)) => bail!("cannot download {module}@{version}: {error}"),
        (Some(dir), None) => Ok(dir),
        (None, None) => bail!("`go mod download` named no directory for {module}@{version}"),
    }
}

/// `go` run in `dir`, set up to build the way the projects release.
pub(crate) fn go(dir: &Path) -> Command {
    let mut go = cmd::new("go");
    go.current_dir(dir)
        // Static binaries, as the releases; also no C toolchain needed.
        .env("CGO_ENABLED", "0")
        // A too-old Go should fail clearly, not try to download a toolchain.
        .env("GOTOOLCHAIN", "local")
        // The module cache holds no VCS data; and ignore the user's GOFLAGS.
        .env("GOFLAGS", "-buildvcs=false");
    go
}

/// The version of `module` in a `go.mod` text's require directives.
pub(super) fn required_version<'a>(go_mod: &'a str, module: &str) -> Option<&'a str> {
    let mut in_block = false;
    for line in go_mod.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let spec = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else if line == "require (" {
            in_block = true;
            continue;
        } else if let Some(rest) = line.strip_prefix("require ") {
            rest.trim()
        } else {
            continue;
        };
        let mut words = spec.split_whitespace();
        if words.next() == Some(module) {
            return words.next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_MOD: &str = "module helm.sh/helm/v3

go 1.24.0

require github.com/BurntSushi/toml v1.5.0

require (
\tgithub.com/Masterminds/semver/v3 v3.4.0
\tk8s.io/client-go v0.34.0 // indirect
)
";

    #[test]
    fn required_versions_are_found_in_blocks_and_single_lines() {
        assert_eq!(
            required_version(GO_MOD, "k8s.io/client-go"),
            Some("v0.34.0")
        );
        assert_eq!(
            required_version(GO_MOD, "github.com/BurntSushi/toml"),
            Some("v1.5.0")
        );
        assert_eq!(required_version(GO_MOD, "k8s.io/api"), None);
    }

    #[test]
    fn ldflags_spell_the_version_as_each_release_does() {
        let helm_docs = TOOLS.iter().find(|tool| tool.name == "helm-docs").unwrap();
        assert_eq!(helm_docs.ldflags(), "-s -w -X main.version=1.14.2");
        let helm = TOOLS.iter().find(|tool| tool.name == "helm").unwrap();
        assert!(
            helm.ldflags()
                .contains("-X helm.sh/helm/v3/internal/version.version=v3.19.0")
        );
    }

    #[test]
    fn build_tags_are_in_the_recipe_of_the_tools_that_have_them() {
        let syft = TOOLS.iter().find(|tool| tool.name == "syft").unwrap();
        assert!(
            syft.recipe()
                .ends_with(" -tags=containers_image_openpgp,exclude_graphdriver_btrfs"),
            "{}",
            syft.recipe()
        );
        // Without tags the recipe is what it was, so no installed tool rebuilds.
        let helm = TOOLS.iter().find(|tool| tool.name == "helm").unwrap();
        assert!(!helm.recipe().contains("-tags"), "{}", helm.recipe());
    }

    #[test]
    fn a_changed_pin_changes_the_recipe() {
        let helm = TOOLS.iter().find(|tool| tool.name == "helm").unwrap();
        let bumped = GoTool {
            version: "v3.19.1",
            ..*helm
        };
        assert_ne!(helm.recipe(), bumped.recipe());
    }
}
