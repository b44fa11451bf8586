//! `cargo xtask images build|check|load`: the container images of the apps and of
//! telemetry-check, built from the root `Dockerfile` (the one GitHub builds too)
//! with podman and runc, on base images made here from Debian packages, then run
//! the way their charts run them. docs/images.md has the numbers and the why.
//!
//! - `bases [--refresh]`: only the base images (below).
//! - `build [--refresh-bases] [image...]`: makes the bases when missing
//!   ([`bases`]), builds each image (podman's layer cache keeps a rebuild after an
//!   edit to one app at that app), saves it as a docker archive and writes its
//!   SBOM, all under `target/images/` ([`build`], [`inventory`]).
//! - `check [image...]`: each built image, static (user, entrypoint, nothing
//!   executable but the app and shared libraries, the size budget), its embedded
//!   dependency list against Cargo's, then run as its chart's render says, against
//!   the loopback services: readiness, one real request per protocol, RSS, and a
//!   clean exit on SIGTERM within the chart's grace period ([`check`]).
//! - `load [--name CLUSTER] [image...]`: `kind load image-archive` of the saved
//!   archives, for a kind cluster without any registry ([`load`]).

mod apt_sources;
mod bases;
mod build;
mod check;
mod inventory;
mod load;
mod pod;
mod podman;
mod warm;

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::{apps, paths};

/// The helm-test payload: an image like the apps', but not an app of the registry.
pub const TELEMETRY_CHECK: &str = "telemetry-check";

const USAGE: &str = "\
cargo xtask images bases [--refresh]
cargo xtask images build [--refresh-bases] [image...]
cargo xtask images check [image...]
cargo xtask images load [--name CLUSTER] [image...]   (kind cluster, default obi-examples)

Images: every app of xtask/src/apps.rs, and telemetry-check; none named means all.";

/// Every image: the apps of the registry whose crates exist, then telemetry-check.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = apps::existing().iter().map(|app| app.name).collect();
    names.push(TELEMETRY_CHECK);
    names
}

/// The local reference of an image: what the charts render with
/// `global.image.registry=localhost` (repository `obi-examples/<name>`, tag the
/// charts' appVersion, which is the workspace version).
pub fn reference(name: &str) -> String {
    format!(
        "localhost/obi-examples/{name}:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// `target/images/` of this checkout: archives, SBOMs, logs and the report.
pub fn out_dir() -> PathBuf {
    paths::target().join("images")
}

/// The variable that turns the gate's images step on (`1`, even cold) or off (`0`).
pub const GATE_SWITCH: &str = "OBI_EXAMPLES_IMAGES";

/// What the gate does about the images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Build (what changed) and check all of them.
    Run,
    /// Leave them out, for this reason (listed in the gate's table).
    Skip(String),
}

/// The gate's images step: on by default where podman, runc and mmdebstrap work
/// and the costly layers are warm (the builder base and the dependency layer of
/// these manifests, [`warm`]); skipped, saying why, on a cold machine, whose first
/// build cooks every dependency (docs/images.md has the times), which the gate's 90
/// minutes cannot hold next to its own cold build. `OBI_EXAMPLES_IMAGES=1` builds
/// even cold, `0` turns the step off; any other value is an error naming it.
pub fn decision() -> Result<Decision> {
    let Some(forced) = switch(std::env::var_os(GATE_SWITCH).as_deref())? else {
        return Ok(Decision::Skip(format!("turned off ({GATE_SWITCH}=0)")));
    };
    if let Err(why) = podman::usable() {
        return Ok(Decision::Skip(format!("{why:#}")));
    }
    if forced {
        return Ok(Decision::Run);
    }
    Ok(cold_verdict(warm::cold()?))
}

/// The switch: `Some(true)` to build even cold, `Some(false)` when unset (warm
/// only), `None` when turned off.
fn switch(value: Option<&std::ffi::OsStr>) -> Result<Option<bool>> {
    match value.map(|v| v.to_str()) {
        None | Some(Some("")) => Ok(Some(false)),
        Some(Some("1")) => Ok(Some(true)),
        Some(Some("0")) => Ok(None),
        Some(other) => bail!("{GATE_SWITCH}={other:?}: 1 builds even cold, 0 turns the step off"),
    }
}

/// Run when warm; when cold, the reason and the way out.
fn cold_verdict(cold: Option<String>) -> Decision {
    match cold {
        None => Decision::Run,
        Some(why) => Decision::Skip(format!(
            "cold: {why}; a cold build takes about an hour on two cores. \
             Run `cargo xtask images build` once (later gates build only what changed), \
             or {GATE_SWITCH}=1 to build here anyway"
        )),
    }
}

/// The gate's step: every image built (cached), then checked.
pub fn gate() -> Result<()> {
    let all = names();
    build::build(&all, false)?;
    check::check(&all)
}

/// Dispatches `cargo xtask images <args>`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        ["bases"] => bases::ensure(false).map(drop),
        ["bases", "--refresh"] => bases::ensure(true).map(drop),
        ["build", rest @ ..] => {
            let refresh = rest.contains(&"--refresh-bases");
            let chosen: Vec<&str> = rest
                .iter()
                .copied()
                .filter(|a| *a != "--refresh-bases")
                .collect();
            build::build(&select(&chosen)?, refresh)
        }
        ["check", rest @ ..] => check::check(&select(rest)?),
        ["load", rest @ ..] => {
            let (cluster, chosen) = match rest {
                ["--name", cluster, chosen @ ..] => (*cluster, chosen),
                chosen => ("obi-examples", chosen),
            };
            load::load(cluster, &select(chosen)?)
        }
        _ => bail!("{USAGE}"),
    }
}

/// The images named on the command line (all when none), each checked.
fn select(chosen: &[&str]) -> Result<Vec<&'static str>> {
    let all = names();
    if chosen.is_empty() {
        return Ok(all);
    }
    chosen
        .iter()
        .map(|name| {
            all.iter().copied().find(|n| n == name).ok_or_else(|| {
                anyhow::anyhow!("no image `{name}`; the images are: {}", all.join(", "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_forces_with_1_turns_off_with_0_and_names_itself_otherwise() {
        use std::ffi::OsStr;
        assert_eq!(switch(None).unwrap(), Some(false));
        assert_eq!(switch(Some(OsStr::new(""))).unwrap(), Some(false));
        assert_eq!(switch(Some(OsStr::new("1"))).unwrap(), Some(true));
        assert_eq!(switch(Some(OsStr::new("0"))).unwrap(), None);
        let why = switch(Some(OsStr::new("yes"))).unwrap_err().to_string();
        assert!(
            why.contains(GATE_SWITCH) && why.contains("\"yes\""),
            "{why}"
        );
    }

    #[test]
    fn a_cold_machine_skips_the_images_saying_how_to_warm_it_and_a_warm_one_runs_them() {
        assert_eq!(cold_verdict(None), Decision::Run);
        let Decision::Skip(why) = cold_verdict(Some("no dependency layer".into())) else {
            panic!("cold must skip");
        };
        for expected in [
            "cold: no dependency layer",
            "cargo xtask images build",
            GATE_SWITCH,
        ] {
            assert!(why.contains(expected), "{expected} missing: {why}");
        }
    }

    #[test]
    fn the_images_are_the_registrys_apps_and_telemetry_check() {
        let names = names();
        assert_eq!(names.last(), Some(&TELEMETRY_CHECK));
        for app in apps::existing() {
            assert!(names.contains(&app.name), "{} has no image", app.name);
        }
    }

    #[test]
    fn every_image_is_a_crate_under_apps_with_a_final_stage_in_the_dockerfile() {
        let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile")).unwrap();
        for name in names() {
            assert!(
                paths::root()
                    .join("apps")
                    .join(name)
                    .join("Cargo.toml")
                    .is_file(),
                "{name}: the Dockerfile builds crates under apps/ only"
            );
            let stage = format!("FROM runtime AS app-{name}\n");
            let entrypoint = format!("ENTRYPOINT [\"/app/{name}\"]");
            let at = dockerfile
                .find(&stage)
                .unwrap_or_else(|| panic!("the Dockerfile has no stage `app-{name}`"));
            let next = dockerfile[at + stage.len()..]
                .find("FROM ")
                .map_or(dockerfile.len(), |n| at + stage.len() + n);
            assert!(
                dockerfile[at..next].contains(&entrypoint),
                "stage app-{name} does not run /app/{name}"
            );
        }
    }

    #[test]
    fn the_dockerfile_copies_every_workspace_crate_the_apps_link() {
        let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile")).unwrap();
        let crates: Vec<String> = std::fs::read_dir(paths::root().join("crates"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for name in names() {
            let manifest =
                std::fs::read_to_string(paths::root().join("apps").join(name).join("Cargo.toml"))
                    .unwrap();
            for dependency in normal_dependencies(&manifest) {
                if crates.contains(&dependency) {
                    let copy = format!("COPY crates/{dependency}/ crates/{dependency}/\n");
                    assert!(
                        dockerfile.contains(&copy),
                        "{name} links crates/{dependency}: the Dockerfile's build stage needs `{}`",
                        copy.trim()
                    );
                }
            }
        }
    }

    /// The `RUN` instruction of a stage that runs `command` (continuation lines joined).
    fn run_line<'a>(dockerfile: &'a str, command: &str) -> &'a str {
        let at = dockerfile
            .find(command)
            .unwrap_or_else(|| panic!("the Dockerfile never runs `{command}`"));
        let start = dockerfile[..at].rfind("RUN ").expect("a RUN instruction");
        let end = dockerfile[at..]
            .find("\n\n")
            .map_or(dockerfile.len(), |n| at + n);
        &dockerfile[start..end]
    }

    /// Cargo resolves dependency features over the selected packages: an app build
    /// that selects fewer packages than the cook compiles cooked dependencies again
    /// (12 of 13 minutes per image when it selected `--package "$APP"` alone).
    #[test]
    fn each_app_build_selects_the_packages_the_dependencies_were_cooked_for() {
        let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile")).unwrap();
        let selection = "$(sed 's/^/--package /' apps.txt)";
        let cook = run_line(&dockerfile, "cargo chef cook");
        let build = run_line(&dockerfile, "cargo auditable build");
        assert!(cook.contains(selection), "the cook selects: {cook}");
        assert!(build.contains(selection), "the app build selects: {build}");
        assert!(
            build.contains("--bin \"$APP\""),
            "the app build targets: {build}"
        );
        for (stage, flags) in [("cook", cook), ("build", build)] {
            assert!(
                flags.contains("--release") && flags.contains("--locked"),
                "{stage}"
            );
        }
    }

    /// Names in the `[dependencies]` table of a manifest.
    fn normal_dependencies(manifest: &str) -> Vec<String> {
        let mut in_table = false;
        let mut names = Vec::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_table = line == "[dependencies]";
            } else if in_table && let Some((key, _)) = line.split_once('=') {
                let key = key.trim();
                names.push(key.split('.').next().unwrap_or(key).to_owned());
            }
        }
        names
    }

    #[test]
    fn normal_dependencies_leave_out_dev_and_build_dependencies() {
        let manifest = "[package]\nname = \"a\"\n[dependencies]\nservice-kit.workspace = true\ntokio = { workspace = true }\n# note\n[dev-dependencies]\ntest-support.workspace = true\n";
        assert_eq!(normal_dependencies(manifest), ["service-kit", "tokio"]);
    }

    #[test]
    fn an_unknown_image_lists_the_images() {
        let err = select(&["http-api"]).unwrap_err().to_string();
        assert!(err.contains("telemetry-check"), "{err}");
        assert_eq!(select(&[]).unwrap(), names());
    }

    #[test]
    fn references_are_what_the_charts_render_with_a_localhost_registry() {
        assert_eq!(
            reference("sql-application"),
            format!(
                "localhost/obi-examples/sql-application:{}",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
