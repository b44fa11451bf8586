//! `podman build` of each image from the root Dockerfile, on the local bases, then
//! its docker archive (what `kind load image-archive` and syft read) and its SBOM.
//!
//! Caching is podman's layer cache (local storage, kept between runs and shared
//! by every checkout on the machine): the toolchain, cargo-chef's dependency
//! layer (keyed on the manifests and Cargo.lock) and each app's own build layer
//! (keyed on `crates/` and that app's directory). GitHub gets the same layers from
//! its BuildKit cache (`type=gha`, see .github/workflows/images.yml).

use std::fs::{self, File};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{bases, inventory, out_dir, podman, reference, warm};
use crate::{cmd, paths};

/// Builds `names` (after making the bases if needed), saves each image's archive
/// and SBOM under `target/images/`, and prints how long each took.
pub fn build(names: &[&str], refresh_bases: bool) -> Result<()> {
    podman::usable()?;
    let bases = bases::ensure(refresh_bases)?;
    let dir = out_dir();
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut rows = Vec::new();
    let Some(first) = names.first() else {
        return Ok(());
    };
    // The shared stages first, tagged so that the gate can tell a warm machine
    // from a cold one (warm.rs); the apps' builds then find them in the cache.
    let started = Instant::now();
    let dependencies = dependencies(first, &bases)?;
    rows.push(format!(
        "{:<20} built in {:>6.1}s ({dependencies})",
        "dependencies",
        started.elapsed().as_secs_f64()
    ));
    for name in names {
        let started = Instant::now();
        build_one(name, &bases)?;
        let built = started.elapsed();
        let archive = dir.join(format!("{name}.tar"));
        // `podman save` refuses to write into an existing docker archive.
        match fs::remove_file(&archive) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("cannot replace {}", archive.display()));
            }
            _ => {}
        }
        cmd::output(
            podman::podman()
                .args(["save", "--format", "docker-archive", "-o"])
                .arg(&archive)
                .arg(reference(name)),
        )?;
        inventory::write_sbom(name, &archive)?;
        rows.push(format!(
            "{name:<20} built in {:>6.1}s, archive and SBOM in {:.1}s",
            built.as_secs_f64(),
            (started.elapsed() - built).as_secs_f64()
        ));
    }
    for row in rows {
        eprintln!("images: {row}");
    }
    Ok(())
}

/// The shared stages up to the dependency layer, tagged with this checkout's key;
/// other keys' tags are removed (their layers go with the next prune). Returns
/// the tag. `app` is any image: no shared stage reads `APP`.
fn dependencies(app: &str, bases: &bases::Bases) -> Result<String> {
    let recipe = match bases::made()? {
        Ok(recipe) => recipe,
        Err(why) => bail!("{why} right after making it"),
    };
    let tag = warm::dependencies_tag(&recipe)?;
    let mut args = build_args(app, bases, &tag);
    args.extend(["--target".to_owned(), "dependencies".to_owned()]);
    run_build("dependencies", &tag, &args)?;
    let listed = cmd::output(podman::podman().args([
        "images",
        "--filter",
        &format!("reference={}", warm::DEPENDENCIES),
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]))?;
    for stale in listed.lines().filter(|line| *line != tag) {
        cmd::run(podman::podman().args(untag_args(stale)))?;
    }
    Ok(tag)
}

/// `podman untag` of one name. Given the image alone, podman removes every name
/// it has: when the cook is unchanged, the stale tag and the fresh one name the
/// same image, and the fresh tag went with it (the gate then saw a cold machine).
fn untag_args(name: &str) -> [&str; 3] {
    ["untag", name, name]
}

/// One `podman build` of an image.
fn build_one(name: &str, bases: &bases::Bases) -> Result<()> {
    run_build(
        name,
        &reference(name),
        &build_args(name, bases, &reference(name)),
    )
}

/// `podman build <args> <root>`, its output in `target/images/<log_name>.build.log`.
fn run_build(log_name: &str, tag: &str, args: &[String]) -> Result<()> {
    let name = log_name;
    let log = out_dir().join(format!("{name}.build.log"));
    let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut command = podman::podman();
    command
        .arg("build")
        .args(args)
        .arg(paths::root())
        .stdout(out.try_clone()?)
        .stderr(out);
    eprintln!("images: building {tag} (log: {})", log.display());
    let status = command.status().context("cannot start `podman build`")?;
    if !status.success() {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`podman build` of {name} failed with {status}; the end of {}:\n{}",
            log.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

/// The arguments after `podman build`, before the context directory.
fn build_args(name: &str, bases: &bases::Bases, tag: &str) -> Vec<String> {
    let mut args = vec![
        // Each RUN is a container: it needs the same runtime and limits, and the
        // host's network (cargo fetches crates; there is no bridge set up here).
        "--network".to_owned(),
        "host".to_owned(),
        "--layers".to_owned(),
        "--file".to_owned(),
        paths::root().join("Dockerfile").display().to_string(),
        "--tag".to_owned(),
        tag.to_owned(),
        "--build-arg".to_owned(),
        format!("APP={name}"),
        "--build-arg".to_owned(),
        format!("BUILDER_IMAGE={}", bases.builder),
        "--build-arg".to_owned(),
        format!("RUNTIME_IMAGE={}", bases.runtime),
    ];
    args.extend(podman::ulimit_args());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_tag_is_removed_by_name_not_with_every_name_of_its_image() {
        let stale = "localhost/obi-examples/dependencies:0123456789abcdef";
        assert_eq!(untag_args(stale), ["untag", stale, stale]);
    }

    #[test]
    fn a_build_names_the_app_and_both_local_bases() {
        let bases = bases::Bases {
            builder: "localhost/obi-examples/builder:bookworm-rust-1.95.0".into(),
            runtime: "localhost/obi-examples/runtime:bookworm".into(),
        };
        let args = build_args("redis-cache", &bases, &reference("redis-cache")).join(" ");
        for expected in [
            "--build-arg APP=redis-cache",
            "--build-arg BUILDER_IMAGE=localhost/obi-examples/builder:bookworm-rust-1.95.0",
            "--build-arg RUNTIME_IMAGE=localhost/obi-examples/runtime:bookworm",
            "--tag localhost/obi-examples/redis-cache:",
            "--ulimit nofile=4096:4096",
            "--network host",
        ] {
            assert!(args.contains(expected), "{expected} missing in {args}");
        }
    }
}
