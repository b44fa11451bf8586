//! Whether the costly layers of the images exist here: the builder base and the
//! dependency layer (cargo-chef's cook of every app's dependencies). With both, a
//! build compiles only the apps that changed, minutes on two cores; without, it
//! cooks every dependency first (half an hour and more, docs/images.md), which the
//! gate cannot afford on top of its own cold build. So the gate builds the images
//! by default when they are warm, and says it skipped them, and why, when not.
//!
//! The dependency layer is tagged `localhost/obi-examples/dependencies:<key>` after
//! each build. The key hashes what decides that layer: the Dockerfile up to the
//! per-app stage, the builder base's recipe, every manifest, lock file and Cargo
//! config in the build context, and the paths of the sources Cargo discovers as
//! targets (`src/lib.rs`, `src/main.rs`, `src/bin/*`, `build.rs`: cargo-chef's
//! recipe lists them; tests and benches are not in the context, and module files
//! are not targets). It errs on the cold side: a change that would not invalidate
//! the cook (a new binary of bench-baselines, say) also changes the key, and the
//! next build re-tags the layer it reused.

use std::process::Stdio;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::{bases, podman};
use crate::{cmd, paths};

/// The repository of the dependency layer's tags.
pub const DEPENDENCIES: &str = "localhost/obi-examples/dependencies";

/// The Dockerfile's first per-app stage: everything above it is shared by all.
const FIRST_APP_STAGE: &str = "FROM dependencies AS build";

/// The tag the dependency layer of this checkout gets (and is looked up by).
pub fn dependencies_tag(builder_recipe: &str) -> Result<String> {
    let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile"))
        .context("reading the Dockerfile")?;
    let files = context_files()?;
    let mut hashed = Vec::new();
    for path in &files {
        let content = if decides_the_recipe(path) {
            std::fs::read(paths::root().join(path)).with_context(|| format!("reading {path}"))?
        } else {
            Vec::new()
        };
        hashed.push((path.clone(), content));
    }
    let key = key(&dockerfile, builder_recipe, &hashed)?;
    Ok(format!("{DEPENDENCIES}:{key}"))
}

/// `None` when the builder base and this checkout's dependency layer exist; else
/// what is missing.
pub fn cold() -> Result<Option<String>> {
    let builder_recipe = match bases::made()? {
        Ok(recipe) => recipe,
        Err(why) => return Ok(Some(why)),
    };
    let tag = dependencies_tag(&builder_recipe)?;
    if podman::inspect(&tag)?.is_some() {
        Ok(None)
    } else {
        Ok(Some(format!(
            "no dependency layer for these manifests ({tag}): the first build cooks every dependency"
        )))
    }
}

/// The files of the build context that can decide the dependency layer: tracked
/// and new files under the directories the `.dockerignore` lets in.
fn context_files() -> Result<Vec<String>> {
    let out = cmd::output(
        cmd::new("git")
            .current_dir(paths::root())
            .args([
                "ls-files",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                "Cargo.toml",
                "Cargo.lock",
                ".cargo",
                "apps",
                "crates",
                "xtask",
            ])
            .stdin(Stdio::null()),
    )?;
    let mut files: Vec<String> = out
        .lines()
        .map(str::to_owned)
        .filter(|path| !left_out(path))
        .filter(|path| decides_the_recipe(path) || is_target(path))
        .filter(|path| paths::root().join(path).is_file())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Directories the `.dockerignore` leaves out of the build context anywhere in the
/// tree (a test keeps the two lists equal).
const LEFT_OUT: [&str; 4] = ["tests", "benches", "examples", "testdata"];

/// Whether the build context leaves `path` out.
fn left_out(path: &str) -> bool {
    path.split('/').any(|part| LEFT_OUT.contains(&part))
}

/// A source file Cargo discovers as a target (or a build script): cargo-chef's
/// recipe lists these by path; module files are not in it.
fn is_target(path: &str) -> bool {
    if path.ends_with("/src/lib.rs")
        || path.ends_with("/src/main.rs")
        || path.ends_with("/build.rs")
    {
        return true;
    }
    match path.split_once("/src/bin/") {
        Some((_, rest)) => match rest.split_once('/') {
            None => rest.ends_with(".rs"),
            Some((_, file)) => file == "main.rs",
        },
        None => false,
    }
}

/// Manifests, lock files and Cargo configuration: their contents are the recipe.
fn decides_the_recipe(path: &str) -> bool {
    path.ends_with("Cargo.toml") || path.ends_with("Cargo.lock") || path.starts_with(".cargo/")
}

/// The key: the shared part of the Dockerfile, the builder base's recipe, and each
/// file's path with its content (empty for sources, whose paths alone matter).
fn key(dockerfile: &str, builder_recipe: &str, files: &[(String, Vec<u8>)]) -> Result<String> {
    let Some(shared) = dockerfile.find(FIRST_APP_STAGE) else {
        bail!("the Dockerfile has no `{FIRST_APP_STAGE}` stage");
    };
    let mut hash = Sha256::new();
    hash.update(&dockerfile.as_bytes()[..shared]);
    hash.update([0]);
    hash.update(builder_recipe.as_bytes());
    for (path, content) in files {
        hash.update([0]);
        hash.update(path.as_bytes());
        hash.update([0]);
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(content);
    }
    let digest = hash.finalize();
    Ok(digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKERFILE: &str =
        "FROM x AS chef\nRUN cargo chef cook\nFROM dependencies AS build\nCOPY apps/a apps/a\n";

    fn files(lock: &str, sources: &[&str]) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![("Cargo.lock".to_owned(), lock.as_bytes().to_vec())];
        files.extend(
            sources
                .iter()
                .map(|source| ((*source).to_owned(), Vec::new())),
        );
        files
    }

    #[test]
    fn what_decides_the_cook_changes_the_key_and_an_app_stage_edit_does_not() {
        let base = key(DOCKERFILE, "r1", &files("lock1", &["apps/a/src/main.rs"])).unwrap();
        let same = key(DOCKERFILE, "r1", &files("lock1", &["apps/a/src/main.rs"])).unwrap();
        assert_eq!(base, same);
        assert_eq!(base.len(), 16);
        for (what, other) in [
            (
                "Cargo.lock",
                key(DOCKERFILE, "r1", &files("lock2", &["apps/a/src/main.rs"])),
            ),
            (
                "builder base",
                key(DOCKERFILE, "r2", &files("lock1", &["apps/a/src/main.rs"])),
            ),
            (
                "a new target",
                key(
                    DOCKERFILE,
                    "r1",
                    &files("lock1", &["apps/a/src/main.rs", "apps/a/src/bin/tool.rs"]),
                ),
            ),
            (
                "the shared stages",
                key(
                    &DOCKERFILE.replace("cook", "cook --locked"),
                    "r1",
                    &files("lock1", &["apps/a/src/main.rs"]),
                ),
            ),
        ] {
            assert_ne!(other.unwrap(), base, "{what} must change the key");
        }
        let app_stage = DOCKERFILE.replace("COPY apps/a apps/a", "COPY apps/b apps/b");
        assert_eq!(
            key(&app_stage, "r1", &files("lock1", &["apps/a/src/main.rs"])).unwrap(),
            base,
            "a per-app stage does not decide the shared layer"
        );
    }

    #[test]
    fn the_context_leaves_out_what_the_dockerignore_leaves_out() {
        let ignore = std::fs::read_to_string(paths::root().join(".dockerignore")).unwrap();
        for dir in LEFT_OUT {
            assert!(
                ignore.lines().any(|line| line == format!("**/{dir}")),
                ".dockerignore does not leave out **/{dir}"
            );
        }
        assert!(left_out("apps/redis-cache/tests/api/carts.rs"));
        assert!(left_out("apps/telemetry-check/testdata/spec.yaml"));
        assert!(!left_out("apps/redis-cache/src/cart.rs"));
        assert!(!left_out("crates/service-kit/src/testing.rs"));
        let files = context_files().unwrap();
        assert!(!files.iter().any(|f| left_out(f)), "{files:?}");
    }

    #[test]
    fn only_the_sources_cargo_discovers_as_targets_count() {
        for target in [
            "apps/redis-cache/src/lib.rs",
            "apps/redis-cache/src/main.rs",
            "apps/grpc-microservice/build.rs",
            "crates/bench-baselines/src/bin/openload.rs",
            "crates/bench-baselines/src/bin/tool/main.rs",
        ] {
            assert!(is_target(target), "{target}");
        }
        for module in [
            "apps/redis-cache/src/cart.rs",
            "xtask/src/bench/tenx.rs",
            "crates/bench-baselines/src/bin/tool/args.rs",
        ] {
            assert!(!is_target(module), "{module}");
        }
    }

    #[test]
    fn a_dockerfile_without_the_per_app_stage_is_refused() {
        let err = key("FROM x AS chef\n", "r1", &[]).unwrap_err().to_string();
        assert!(err.contains(FIRST_APP_STAGE), "{err}");
    }

    #[test]
    fn this_checkouts_context_has_the_lock_file_and_every_app_manifest() {
        let files = context_files().unwrap();
        assert!(files.iter().any(|f| f == "Cargo.lock"), "{files:?}");
        for app in crate::apps::existing() {
            let manifest = format!("apps/{}/Cargo.toml", app.name);
            assert!(files.contains(&manifest), "{manifest} missing");
        }
        assert!(
            !files.iter().any(|f| f.contains("/target/")),
            "build output is not context"
        );
    }
}
