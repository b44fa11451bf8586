//! The tidy checks, one function per rule, each over a [`Tree`] (loaded from the
//! repository, or built by hand in the planted-violation tests).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::rules::{self, DependencyRule, ImportRule};
use super::{Tree, Violation};

/// Every violation of every rule.
pub fn all_violations(tree: &Tree) -> Vec<Violation> {
    let mut found = Vec::new();
    found.extend(module_docs(tree));
    found.extend(file_size(tree, rules::MAX_LINES, rules::LONG_FILES));
    found.extend(lint_reasons(tree));
    found.extend(imports(tree, rules::IMPORTS));
    found.extend(dependencies(tree, rules::DEPENDENCIES));
    found.extend(maps(tree));
    found
}

pub fn module_docs(tree: &Tree) -> Vec<Violation> {
    tree.sources
        .iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| {
            Violation::new(
                "module-docs",
                path,
                1,
                "the file does not start with a `//!` line saying what it owns",
            )
        })
        .collect()
}

pub fn file_size(tree: &Tree, max: usize, exceptions: &[(&str, &str)]) -> Vec<Violation> {
    tree.sources
        .iter()
        .filter(|(path, _)| !exceptions.iter().any(|(long, _)| long == path))
        .filter_map(|(path, text)| {
            let lines = text.lines().count();
            (lines > max).then(|| {
                Violation::new(
                    "file-size",
                    path,
                    max + 1,
                    format!("{lines} lines, over the ceiling of {max}: split it by concern"),
                )
            })
        })
        .collect()
}

pub fn lint_reasons(tree: &Tree) -> Vec<Violation> {
    const OPENERS: &[&str] = &["#[allow(", "#![allow(", "#[expect(", "#![expect("];
    let mut found = Vec::new();
    for (path, text) in &tree.sources {
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if !OPENERS.iter().any(|opener| trimmed.starts_with(opener)) {
                continue;
            }
            // The attribute may span lines: up to the one that closes it.
            let last = (index..lines.len())
                .find(|&i| lines[i].contains(")]"))
                .unwrap_or(index);
            let attribute = lines[index..=last].join(" ");
            let above = if index > 0 {
                lines[index - 1].trim_start()
            } else {
                ""
            };
            // A plain comment; doc comments (`///`, `//!`) describe the item instead.
            let commented_above =
                above.starts_with("//") && !above.starts_with("///") && !above.starts_with("//!");
            let commented_after = lines[last]
                .split_once(")]")
                .is_some_and(|(_, rest)| rest.contains("//"));
            let has_reason = attribute.contains("reason =") || attribute.contains("reason=");
            if !(has_reason || commented_above || commented_after) {
                found.push(Violation::new(
                    "lint-reason",
                    path,
                    index + 1,
                    format!(
                        "`{}` has no reason: write `#[expect(<lint>, reason = \"...\")]` (or a comment on the line above)",
                        trimmed.trim_end()
                    ),
                ));
            }
        }
    }
    found
}

/// Whether `path` is covered by one of `allowed` (see [`ImportRule::allowed`]).
pub fn is_allowed(path: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|pattern| {
        if pattern.ends_with('/') || pattern.ends_with(".rs") {
            path.starts_with(pattern)
        } else {
            path == format!("{pattern}.rs") || path.starts_with(&format!("{pattern}/"))
        }
    })
}

/// The dependency keys of a manifest (every table of dependencies), with the line
/// each is declared on.
pub fn declared_dependencies(manifest: &str) -> Vec<(String, usize)> {
    let Ok(table) = toml::from_str::<toml::Table>(manifest) else {
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        if let Some(deps) = table.get(kind).and_then(toml::Value::as_table) {
            names.extend(deps.keys().cloned());
        }
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            for kind in kinds {
                if let Some(deps) = target.get(kind).and_then(toml::Value::as_table) {
                    names.extend(deps.keys().cloned());
                }
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let line = manifest
                .lines()
                .position(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}."))
                })
                .map_or(1, |i| i + 1);
            (name, line)
        })
        .collect()
}

/// Lines of `text` that name `krate` as a path root (`krate::`, `use krate;`,
/// `extern crate krate`), comments excluded.
pub fn naming_lines(text: &str, krate: &str) -> Vec<usize> {
    let path = format!("{krate}::");
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let by_path = code.match_indices(&path).any(|(at, _)| {
            !code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let whole = code.trim();
        let by_use = whole == format!("use {krate};")
            || whole.starts_with(&format!("use {krate} as"))
            || whole.starts_with(&format!("extern crate {krate}"));
        if by_path || by_use {
            lines.push(index + 1);
        }
    }
    lines
}

pub fn imports(tree: &Tree, rules: &[ImportRule]) -> Vec<Violation> {
    let mut found = Vec::new();
    for rule in rules {
        for (dir, (_, manifest)) in &tree.manifests {
            let Some((_, line)) = declared_dependencies(manifest)
                .into_iter()
                .find(|(name, _)| name == rule.package)
            else {
                continue;
            };
            let prefix = format!("{dir}/");
            if !rule.allowed.iter().any(|p| p.starts_with(&prefix)) {
                found.push(Violation::new(
                    rule.id,
                    &format!("{dir}/Cargo.toml"),
                    line,
                    format!("depends on {}: {}", rule.package, rule.why),
                ));
            }
            for (path, text) in tree.sources.range(prefix.clone()..) {
                if !path.starts_with(&prefix) {
                    break;
                }
                if is_allowed(path, rule.allowed) {
                    continue;
                }
                for line in naming_lines(text, rule.krate) {
                    found.push(Violation::new(
                        rule.id,
                        path,
                        line,
                        format!("names `{}`: {}", rule.krate, rule.why),
                    ));
                }
            }
        }
    }
    found
}

/// Package name → the names of its dependencies, over every version in the lock.
pub fn lock_graph(lock: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let Ok(table) = toml::from_str::<toml::Table>(lock) else {
        return graph;
    };
    let packages = table.get("package").and_then(toml::Value::as_array);
    for package in packages.into_iter().flatten() {
        let Some(name) = package.get("name").and_then(toml::Value::as_str) else {
            continue;
        };
        let deps = graph.entry(name.to_owned()).or_default();
        let listed = package.get("dependencies").and_then(toml::Value::as_array);
        for dep in listed.into_iter().flatten().filter_map(toml::Value::as_str) {
            deps.insert(dep.split(' ').next().unwrap_or(dep).to_owned());
        }
    }
    graph
}

pub fn matches_name(name: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

pub fn dependencies(tree: &Tree, rules: &[DependencyRule]) -> Vec<Violation> {
    let graph = lock_graph(&tree.lock);
    let dir_of = |package: &str| {
        tree.manifests
            .iter()
            .find(|(_, (name, _))| name == package)
            .map(|(dir, _)| format!("{dir}/Cargo.toml"))
            .unwrap_or_else(|| "Cargo.lock".to_owned())
    };
    let mut found = Vec::new();
    for rule in rules {
        let roots: Vec<&str> = rule
            .roots
            .iter()
            .flat_map(|root| {
                if *root == rules::APPS {
                    tree.apps.iter().map(String::as_str).collect()
                } else {
                    vec![*root]
                }
            })
            .collect();
        for root in roots {
            // Breadth first, remembering who brought each package in.
            let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = VecDeque::from([root]);
            let mut seen = BTreeSet::from([root]);
            while let Some(package) = queue.pop_front() {
                if rule.forbidden.iter().any(|p| matches_name(package, p)) {
                    let mut chain = vec![package];
                    while let Some(up) = parent.get(chain[chain.len() - 1]) {
                        chain.push(up);
                    }
                    chain.reverse();
                    found.push(Violation::new(
                        rule.id,
                        &dir_of(root),
                        1,
                        format!("reaches {package} ({}): {}", chain.join(" -> "), rule.why),
                    ));
                    continue;
                }
                if package != root && rule.through.contains(&package) {
                    continue;
                }
                for dep in graph.get(package).into_iter().flatten() {
                    if seen.insert(dep) {
                        parent.insert(dep, package);
                        queue.push_back(dep);
                    }
                }
            }
        }
    }
    found
}

pub fn maps(tree: &Tree) -> Vec<Violation> {
    let mut found = Vec::new();
    for (map, text) in &tree.maps {
        for top in &tree.top_level {
            let named = [format!("`{top}`"), format!("`{top}/`")]
                .iter()
                .any(|form| text.contains(form.as_str()));
            if !named {
                found.push(Violation::new(
                    "maps",
                    map,
                    1,
                    format!("does not name the top-level path `{top}` in its map"),
                ));
            }
        }
    }
    found
}
