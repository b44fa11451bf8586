//! The docs' shape: every app's page (`docs/<app>.md`) follows one template, its
//! "Expected telemetry" section is generated from the app's main spec and the
//! scenario registry, the index (`docs/README.md`) links every page under `docs/`,
//! and every relative link in the docs resolves.
//!
//! The template is a list of `## ` sections, each met by a heading starting with
//! one of its accepted titles (pages keep their own wording after it, e.g.
//! `## What OBI shows, and caveats`). A new app's page fails the gate until it has
//! them all, naming the missing ones.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::scenarios::{self, Scenario, guide};
use crate::apps;
use crate::paths;

/// The sections of every app's page: what the template asks, and the heading
/// prefixes that satisfy it.
pub const TEMPLATE: &[(&str, &[&str])] = &[
    (
        "architecture overview, with a diagram",
        &["## Architecture"],
    ),
    ("endpoints or RPCs", &["## Endpoints"]),
    ("configuration", &["## Configuration"]),
    ("faults (the scenarios)", &["## Faults"]),
    (
        "OBI instrumentation: what OBI shows",
        &["## What OBI shows"],
    ),
    ("expected telemetry (generated)", &["## Expected telemetry"]),
    ("deployment: locally and on Kubernetes", &["## Run it"]),
    ("performance", &["## Performance"]),
    ("limits", &["## Limits"]),
];

/// What starts the samples telemetry-check's fixture writes (its test `samples`).
const SAMPLES: &str = "<!-- BEGIN GENERATED samples from the telemetry-check fixture";
const BEGIN: &str = "<!-- BEGIN GENERATED from the app's main spec and the scenario registry by `cargo xtask charts generate` -->";
const END: &str = "<!-- END GENERATED -->";

/// Template problems of one page's text.
pub fn template_problems(page: &str, text: &str) -> Vec<String> {
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    let mut problems = Vec::new();
    for (what, prefixes) in TEMPLATE {
        if !headings
            .iter()
            .any(|h| prefixes.iter().any(|p| h.starts_with(p)))
        {
            problems.push(format!(
                "{page}: no section for {what} (a heading starting with `{}`)",
                prefixes.join("` or `")
            ));
        }
    }
    if !text.contains(SAMPLES) {
        problems.push(format!(
            "{page}: the expected telemetry has no samples (a line starting `{SAMPLES}`, \
             filled from the app's fixture by `UPDATE_TELEMETRY_DOCS=1 cargo test -p \
             telemetry-check --test telemetry samples`)"
        ));
    }
    if text.contains("## Architecture") && !text.contains("```mermaid") {
        problems.push(format!(
            "{page}: the architecture overview has no ```mermaid diagram"
        ));
    }
    problems
}

/// Relative links (`](target)`) of a Markdown text whose file does not exist
/// (`dir` is the text's directory). Anchors and absolute URLs are not checked.
pub fn broken_links(page: &str, dir: &Path, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut in_code = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            continue;
        }
        for (at, _) in line.match_indices("](") {
            let rest = &line[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split_whitespace().next().unwrap_or_default();
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !dir.join(file).exists() {
                problems.push(format!(
                    "{page}:{}: link `{target}` does not resolve",
                    number + 1
                ));
            }
        }
    }
    problems
}

/// Every page with Markdown links the gate follows: the root's and `docs/`'s.
fn pages(root: &Path) -> Result<Vec<String>> {
    let mut pages = vec!["README.md".to_owned(), "ARCHITECTURE.md".to_owned()];
    for entry in std::fs::read_dir(root.join("docs")).context("reading docs/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    pages.sort();
    Ok(pages)
}

/// The index of the docs, which must link every page under `docs/`.
pub const INDEX: &str = "docs/README.md";

/// Pages under `docs/` the index does not link (`](<name>)` or `](<name>#...)`).
pub fn unindexed(index: &str, pages: &[String]) -> Vec<String> {
    pages
        .iter()
        .filter_map(|page| page.strip_prefix("docs/"))
        .filter(|name| format!("docs/{name}") != INDEX)
        .filter(|name| {
            !index.contains(&format!("]({name})")) && !index.contains(&format!("]({name}#"))
        })
        .map(|name| format!("{INDEX} does not link docs/{name}"))
        .collect()
}

/// The gate's step: the template of every app page, the index, and every relative
/// link.
pub fn check() -> Result<Vec<String>> {
    let root = paths::root();
    let mut problems = Vec::new();
    let index = std::fs::read_to_string(root.join(INDEX)).unwrap_or_default();
    problems.extend(unindexed(&index, &pages(root)?));
    for app in apps::existing() {
        let page = format!("docs/{}.md", app.name);
        let text = std::fs::read_to_string(root.join(&page)).unwrap_or_default();
        problems.extend(template_problems(&page, &text));
    }
    for page in pages(root)? {
        let text = std::fs::read_to_string(root.join(&page))?;
        let dir = root.join(&page);
        let dir = dir.parent().expect("a page has a directory");
        problems.extend(broken_links(&page, dir, &text));
    }
    Ok(problems)
}

/// The app pages with their generated section, by repository path.
pub fn expected(scenarios: &[Scenario]) -> Result<Vec<(String, String)>> {
    let root = paths::root();
    let mut pages = Vec::new();
    for app in apps::existing() {
        let page = format!("docs/{}.md", app.name);
        let Ok(text) = std::fs::read_to_string(root.join(&page)) else {
            continue;
        };
        let Some(body) = render(root, app.name, scenarios)? else {
            continue;
        };
        if let Some(spliced) = splice(&text, &body) {
            pages.push((page, spliced));
        }
    }
    Ok(pages)
}

/// `text` with the lines between the markers replaced; None without markers (the
/// template check reports the missing section).
fn splice(text: &str, body: &str) -> Option<String> {
    let begin = text.find(&format!("{BEGIN}\n"))? + BEGIN.len() + 1;
    let end = begin + text[begin..].find(&format!("{END}\n"))?;
    Some(format!("{}{body}{}", &text[..begin], &text[end..]))
}

/// The generated part of an app's "Expected telemetry": the main spec's queries and
/// links to its scenarios in the troubleshooting guide.
fn render(root: &Path, app: &str, scenarios: &[Scenario]) -> Result<Option<String>> {
    let path = format!("charts/{app}/telemetry/{app}.yaml");
    let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
        return Ok(None);
    };
    let spec = scenarios::parse_spec(&path, &text)?;
    let mut out = format!(
        "\nUnder the k6 mix, with no fault on, `helm test` expects what follows \
         ([`{path}`](../{path}); the report prints the same queries, see \
         [telemetry-checks.md](telemetry-checks.md#reading-the-report)):\n\n"
    );
    for check in &spec.checks {
        out.push_str(&check.markdown());
    }
    let links: Vec<String> = scenarios
        .iter()
        .filter(|s| s.app == app)
        .map(|s| format!("[`{}`](troubleshooting.md#{})", s.name, guide::anchor(s)))
        .collect();
    let _ = writeln!(
        out,
        "Each fault's symptom, first panel, queries, cause and fix are in the \
         troubleshooting guide: {}.\n",
        links.join(", ")
    );
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPLETE: &str = "# x\n## Architecture\n```mermaid\nflowchart LR\n```\n## Endpoints\n\
        ## Configuration\n## Faults and what OBI shows\n## What OBI shows, and caveats\n\
        ## Expected telemetry\n<!-- BEGIN GENERATED samples from the telemetry-check fixture -->\n## Run it\n## Performance\n## Limits\n";

    #[test]
    fn every_app_page_follows_the_template_and_every_link_resolves() {
        let problems = check().unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_page_missing_a_section_fails_naming_it() {
        assert!(template_problems("p.md", COMPLETE).is_empty());
        for (_, prefixes) in TEMPLATE {
            let heading = format!("{}\n", prefixes[0]);
            let line = COMPLETE
                .lines()
                .find(|l| l.starts_with(prefixes[0]))
                .unwrap();
            let text = COMPLETE.replace(&format!("{line}\n"), "");
            let problems = template_problems("p.md", &text);
            assert_eq!(problems.len(), 1, "{heading}: {problems:?}");
            assert!(problems[0].contains(prefixes[0]), "{problems:?}");
        }
        let no_diagram = COMPLETE.replace("```mermaid", "```text");
        assert!(template_problems("p.md", &no_diagram)[0].contains("mermaid"));
        let no_samples = COMPLETE.replace(SAMPLES, "<!-- samples");
        assert!(template_problems("p.md", &no_samples)[0].contains("no samples"));
    }

    #[test]
    fn a_link_to_a_missing_file_fails_and_anchors_urls_and_code_do_not() {
        let dir = paths::root().join("docs");
        let text = "[a](install.md) [b](install.md#kind) [c](#top) [d](https://x/y)\n\
                    ```\n[e](nowhere.md)\n```\n[f](../README.md) [g](gone.md#x)\n";
        let problems = broken_links("docs/p.md", &dir, text);
        assert_eq!(problems, ["docs/p.md:5: link `gone.md#x` does not resolve"]);
    }

    #[test]
    fn a_page_missing_from_the_index_fails() {
        let pages = [
            "docs/README.md".to_owned(),
            "docs/a.md".to_owned(),
            "docs/b.md".to_owned(),
        ];
        assert!(unindexed("[a](a.md) [b](b.md#x)", &pages).is_empty());
        assert_eq!(
            unindexed("[a](a.md)", &pages),
            ["docs/README.md does not link docs/b.md"]
        );
    }

    #[test]
    fn splicing_needs_both_markers() {
        let text = format!("a\n{BEGIN}\nold\n{END}\nb\n");
        assert_eq!(
            splice(&text, "new\n").unwrap(),
            format!("a\n{BEGIN}\nnew\n{END}\nb\n")
        );
        assert!(splice("a\n", "new\n").is_none());
    }
}
