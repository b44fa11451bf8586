//! Repository rules as a test (`cargo test -p xtask tidy`, so part of the gate), in
//! the spirit of rust-analyzer's `xtask/src/tidy.rs`. Every `.rs` file of `apps/`,
//! `crates/` and `xtask/`:
//!
//! - starts with a `//!` line saying what it owns (`module-docs`);
//! - stays under [`rules::MAX_LINES`] unless [`rules::LONG_FILES`] says why
//!   (`file-size`);
//! - gives every `#[allow]`/`#[expect]` a reason: `reason = "..."` or a comment on
//!   the line or the line above (`lint-reason`); prefer `#[expect]`, which the
//!   compiler reports once it no longer fires, so a stale one cannot stay;
//! - names backing-service and protocol crates only where [`rules::IMPORTS`] allows.
//!
//! Besides, no app's dependency graph in `Cargo.lock` reaches what
//! [`rules::DEPENDENCIES`] forbids (OpenTelemetry, TLS, mocking crates), and
//! ARCHITECTURE.md's code map and the README's map name every top-level path
//! (`maps`).
//!
//! Every violation is reported with `file:line`. [`rules::KNOWN_VIOLATIONS`] lists
//! those that were on main when a rule was written: a ratchet that may only shrink.

mod checks;
#[cfg(test)]
mod planted;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use checks::all_violations;

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    rule: &'static str,
    path: String,
    line: usize,
    message: String,
}

impl Violation {
    fn new(rule: &'static str, path: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            rule,
            path: path.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// What the rules look at, loaded once (tests build small ones by hand).
#[derive(Debug, Default)]
struct Tree {
    /// `.rs` files: repository path → text.
    sources: BTreeMap<String, String>,
    /// Packages: directory → (package name, `Cargo.toml` text).
    manifests: BTreeMap<String, (String, String)>,
    /// `Cargo.lock`.
    lock: String,
    /// The apps of `apps.toml`.
    apps: Vec<String>,
    /// Top-level paths of the repository (tracked by git).
    top_level: Vec<String>,
    /// Documents that must name every top-level path: path → text.
    maps: BTreeMap<String, String>,
}

impl Tree {
    fn load(root: &Path) -> Self {
        let mut tree = Self::default();
        for dir in ["apps", "crates", "xtask"] {
            walk(root, &root.join(dir), &mut tree);
        }
        tree.lock = read(root, "Cargo.lock");
        tree.apps = crate::apps::ALL
            .iter()
            .map(|app| app.name.to_owned())
            .collect();
        let listed = std::process::Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(root)
            .output()
            .expect("git ls-files runs");
        assert!(listed.status.success(), "git ls-files failed");
        let top: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
            .split('\0')
            .filter(|path| !path.is_empty())
            .filter(|path| root.join(path).exists())
            .map(|path| path.split('/').next().unwrap_or(path).to_owned())
            .collect();
        tree.top_level = top.into_iter().collect();
        for map in ["ARCHITECTURE.md", "README.md"] {
            tree.maps.insert(map.to_owned(), read(root, map));
        }
        tree
    }
}

fn read(root: &Path, relative: &str) -> String {
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|err| panic!("{relative}: {err}"))
}

/// Collects `.rs` files and `Cargo.toml` manifests under `dir`, skipping build output.
fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                walk(root, &path, tree);
            }
        } else if name.ends_with(".rs") {
            tree.sources.insert(relative.clone(), read(root, &relative));
        } else if name == "Cargo.toml" {
            let text = read(root, &relative);
            let package = toml::from_str::<toml::Table>(&text)
                .ok()
                .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned));
            if let Some(package) = package {
                let dir = relative.trim_end_matches("/Cargo.toml").to_owned();
                tree.manifests.insert(dir, (package, text));
            }
        }
    }
}

/// Applies the ratchet: new violations fail, and so do known ones that were fixed.
fn ratchet(violations: &[Violation], known: &[(&str, &str)]) -> Vec<String> {
    let mut problems: Vec<String> = violations
        .iter()
        .filter(|v| !known.contains(&(v.rule, v.path.as_str())))
        .map(|v| format!("{}:{}: [{}] {}", v.path, v.line, v.rule, v.message))
        .collect();
    for (rule, path) in known {
        if !violations
            .iter()
            .any(|v| v.rule == *rule && v.path == *path)
        {
            problems.push(format!(
                "{path}: [{rule}] no longer broken: remove it from KNOWN_VIOLATIONS in xtask/src/tidy/rules.rs (the list only shrinks)"
            ));
        }
    }
    problems
}

#[test]
fn tidy() {
    let tree = Tree::load(crate::paths::root());
    assert!(
        tree.sources.len() > 100,
        "found only {} .rs files",
        tree.sources.len()
    );
    let problems = ratchet(&all_violations(&tree), rules::KNOWN_VIOLATIONS);
    assert!(
        problems.is_empty(),
        "{} tidy problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_rule_of_the_data_is_well_formed() {
    let ids: BTreeSet<&str> = rules::IMPORTS
        .iter()
        .map(|r| r.id)
        .chain(rules::DEPENDENCIES.iter().map(|r| r.id))
        .chain(["module-docs", "file-size", "lint-reason", "maps"])
        .collect();
    for (rule, path) in rules::KNOWN_VIOLATIONS {
        assert!(ids.contains(rule), "unknown rule {rule} for {path}");
    }
    for (path, why) in rules::LONG_FILES {
        assert!(!why.is_empty(), "{path} needs a reason to be long");
    }
}
