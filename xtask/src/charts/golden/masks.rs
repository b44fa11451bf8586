//! What golden renders mask: embedded files the gate checks on their own (to
//! `sha256:<digest> (<path>)`) and the values of generated Secrets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::super::inventory::Chart;
use crate::paths;

const GENERATED_MARK: &str = "obi-examples.io/generated: \"true\"";
const MASK: &str = "<generated at install, kept across upgrades>";

/// The files a chart may embed whole, by content, and the charts' aliases.
#[derive(Debug, Default)]
pub struct Embedded {
    /// Content without trailing whitespace → (repository path, sha256 of the file).
    files: BTreeMap<String, Vec<(String, String)>>,
    /// Alias (or name) of a dependency as `# Source:` lines show it → chart name.
    aliases: BTreeMap<String, String>,
}

impl Embedded {
    /// Every dashboard, k6 script and telemetry spec of the repository.
    pub fn load(charts: &[Chart]) -> Result<Self> {
        let root = paths::root();
        let mut embedded = Self::default();
        let mut dirs = vec![PathBuf::from("dashboards")];
        for chart in charts {
            for sub in ["dashboards", "k6", "telemetry"] {
                dirs.push(PathBuf::from("charts").join(&chart.name).join(sub));
            }
            for dep in &chart.meta.dependencies {
                let shown = dep.alias.clone().unwrap_or_else(|| dep.name.clone());
                embedded.aliases.insert(shown, dep.name.clone());
            }
        }
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
                continue;
            };
            for entry in entries {
                let path = dir.join(entry?.file_name());
                let bytes = std::fs::read(root.join(&path))
                    .with_context(|| format!("reading {}", path.display()))?;
                embedded.add(&path.to_string_lossy(), &String::from_utf8_lossy(&bytes));
            }
        }
        Ok(embedded)
    }

    /// Registers one file by its repository path and contents.
    pub fn add(&mut self, path: &str, contents: &str) {
        let digest = format!("{:x}", Sha256::digest(contents.as_bytes()));
        let entry = self
            .files
            .entry(contents.trim_end().to_owned())
            .or_default();
        entry.push((path.to_owned(), digest));
        entry.sort();
    }

    /// The mask of a block scalar holding `text` in a document rendered from
    /// `chart`: the source under `dashboards/` first, else the file of that chart.
    fn mask_for(&self, text: &str, chart: Option<&str>) -> Option<String> {
        let candidates = self.files.get(text.trim_end())?;
        let chart_dir = chart.map(|c| format!("charts/{c}/"));
        let (path, digest) = candidates
            .iter()
            .find(|(path, _)| path.starts_with("dashboards/"))
            .or_else(|| {
                candidates
                    .iter()
                    .find(|(path, _)| chart_dir.as_ref().is_some_and(|d| path.starts_with(d)))
            })
            .unwrap_or(&candidates[0]);
        Some(format!("sha256:{digest} ({path})"))
    }

    /// The chart a document came from, by its `# Source: <chart>/...` line
    /// (`<umbrella>/charts/<alias>/...` for a subchart).
    fn chart_of(&self, doc: &str) -> Option<String> {
        let source = doc
            .lines()
            .find_map(|line| line.strip_prefix("# Source: "))?;
        let parts: Vec<&str> = source.split('/').collect();
        match parts.as_slice() {
            [_, "charts", alias, ..] => Some(
                self.aliases
                    .get(*alias)
                    .cloned()
                    .unwrap_or_else(|| (*alias).to_owned()),
            ),
            [chart, ..] => Some((*chart).to_owned()),
            [] => None,
        }
    }
}

/// Replaces each block scalar that holds exactly a known file by its mask.
pub fn mask_embedded_files(manifests: &str, embedded: &Embedded) -> String {
    let docs: Vec<String> = manifests
        .split("\n---\n")
        .map(|doc| mask_document(doc, embedded))
        .collect();
    docs.join("\n---\n")
}

fn mask_document(doc: &str, embedded: &Embedded) -> String {
    let chart = embedded.chart_of(doc);
    let lines: Vec<&str> = doc.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push(line.to_owned());
        i += 1;
        if !is_block_scalar_header(line) {
            continue;
        }
        let body_indent = indent_of(line) + 2;
        let end = block_end(&lines, i, body_indent);
        let body = &lines[i..end];
        let mut content_lines = body.len();
        while content_lines > 0 && body[content_lines - 1].trim().is_empty() {
            content_lines -= 1;
        }
        let text = dedent(&body[..content_lines], body_indent);
        if let Some(text) = text
            && let Some(mask) = embedded.mask_for(&text, chart.as_deref())
        {
            out.push(format!("{}{mask}", " ".repeat(body_indent)));
            out.extend(body[content_lines..].iter().map(|l| (*l).to_owned()));
            i = end;
        }
    }
    out.join("\n")
}

/// `key: |`, `key: |-` or `key: |+` (the forms Helm templates write).
fn is_block_scalar_header(line: &str) -> bool {
    let trimmed = line.trim_end();
    ["|", "|-", "|+"]
        .iter()
        .any(|indicator| trimmed.ends_with(&format!(": {indicator}")))
        && !trimmed.trim_start().starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The index after the block that starts at `start`: the first non-blank line
/// indented less than the body.
fn block_end(lines: &[&str], start: usize, body_indent: usize) -> usize {
    lines[start..]
        .iter()
        .position(|line| !line.trim().is_empty() && indent_of(line) < body_indent)
        .map_or(lines.len(), |offset| start + offset)
}

/// The block's text, or `None` when a line is indented less than the body (which
/// a block scalar does not allow, so the block is not one file).
fn dedent(body: &[&str], indent: usize) -> Option<String> {
    let mut text = Vec::with_capacity(body.len());
    for line in body {
        if line.trim().is_empty() {
            text.push("");
        } else {
            text.push(line.get(indent..).filter(|_| indent_of(line) >= indent)?);
        }
    }
    Some(text.join("\n"))
}

/// Masks the `data` values of generated Secrets, document by document.
pub fn mask_generated_secrets(manifests: &str) -> String {
    let mut out = String::with_capacity(manifests.len());
    let mut first = true;
    for doc in manifests.split("\n---\n") {
        if !first {
            out.push_str("\n---\n");
        }
        first = false;
        if !doc.contains(GENERATED_MARK) {
            out.push_str(doc);
            continue;
        }
        let mut in_data = false;
        let lines: Vec<String> = doc
            .split('\n')
            .map(|line| {
                if !line.starts_with(' ') && !line.is_empty() {
                    in_data = line == "data:" || line == "stringData:";
                    return line.to_owned();
                }
                match line.split_once(": ") {
                    Some((key, _))
                        if in_data && key.starts_with("  ") && !key.starts_with("   ") =>
                    {
                        format!("{key}: {MASK:?}")
                    }
                    _ => line.to_owned(),
                }
            })
            .collect();
        out.push_str(&lines.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::first_difference;
    use super::*;
    use crate::charts::render::Render;

    #[test]
    fn generated_secret_values_are_masked_and_nothing_else() {
        let manifests = "\
---
kind: Secret
metadata:
  annotations:
    obi-examples.io/generated: \"true\"
data:
  admin-token: cmFuZG9t
---
kind: Secret
metadata:
  name: given
data:
  admin-token: Z2l2ZW4=
";
        let masked = mask_generated_secrets(manifests);
        assert!(
            masked.contains(&format!("  admin-token: {MASK:?}")),
            "{masked}"
        );
        assert!(!masked.contains("cmFuZG9t"));
        assert!(masked.contains("Z2l2ZW4="), "a given secret stays visible");
    }

    const DASHBOARD: &str = "{\n  \"uid\": \"obi-examples-app\",\n\n  \"panels\": []\n}\n";
    const SCRIPT: &str = "import http from 'k6/http';\n\nexport default function () {}\n";

    fn embedded() -> Embedded {
        let mut embedded = Embedded::default();
        embedded.add("dashboards/app.json", DASHBOARD);
        embedded.add("charts/app/dashboards/app.json", DASHBOARD);
        embedded.add("charts/app/k6/obi-examples.js", SCRIPT);
        embedded.add("charts/other/k6/obi-examples.js", SCRIPT);
        embedded.aliases.insert("a".into(), "app".into());
        embedded
    }

    /// A render as Helm writes it: files indented by `nindent 4`, blank lines too.
    fn render(dashboard: &str, label: &str) -> Render {
        let indented = |text: &str| {
            text.trim_end()
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let manifests = format!(
            "---\n# Source: app/templates/dashboard-configmap.yaml\nkind: ConfigMap\n\
             metadata:\n  labels:\n    tier: {label}\ndata:\n  app.json: |-\n{}\n\
             ---\n# Source: app/templates/k6-configmap.yaml\nkind: ConfigMap\ndata:\n  \
             obi-examples.js: |\n{}\n  other: value\n",
            indented(dashboard),
            indented(SCRIPT),
        );
        Render {
            chart: "app".into(),
            variant: "01-default".into(),
            command: "helm template obi-examples charts/app".into(),
            manifests,
            golden: true,
        }
    }

    fn digest(text: &str) -> String {
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn embedded_files_show_as_their_digest_and_source_and_the_objects_stay() {
        let text = super::super::golden_text(&render(DASHBOARD, "a"), &embedded());
        assert!(
            text.contains(&format!(
                "  app.json: |-\n    sha256:{} (dashboards/app.json)\n---",
                digest(DASHBOARD)
            )),
            "the dashboard is masked to its source under dashboards/:\n{text}"
        );
        assert!(
            text.contains(&format!(
                "  obi-examples.js: |\n    sha256:{} (charts/app/k6/obi-examples.js)\n  other: value",
                digest(SCRIPT)
            )),
            "a copy in several charts is named in the rendered chart:\n{text}"
        );
        assert!(text.contains("    tier: a"), "{text}");
        assert!(!text.contains("panels"), "{text}");
    }

    #[test]
    fn a_changed_chart_object_fails_the_golden_comparison() {
        let committed = super::super::golden_text(&render(DASHBOARD, "a"), &embedded());
        let mutated = super::super::golden_text(&render(DASHBOARD, "b"), &embedded());
        let diff = first_difference(&committed, &mutated).expect("a label changed");
        assert!(
            diff.contains("tier: a") && diff.contains("tier: b"),
            "{diff}"
        );
    }

    #[test]
    fn an_embedded_file_the_template_altered_is_shown_whole_and_fails() {
        let committed = super::super::golden_text(&render(DASHBOARD, "a"), &embedded());
        let altered = DASHBOARD.replace("\"panels\": []", "\"panels\": [1]");
        let mutated = super::super::golden_text(&render(&altered, "a"), &embedded());
        assert!(mutated.contains("\"panels\": [1]"), "unmasked:\n{mutated}");
        assert!(first_difference(&committed, &mutated).is_some());
    }

    #[test]
    fn a_changed_source_file_changes_the_digest() {
        let committed = super::super::golden_text(&render(DASHBOARD, "a"), &embedded());
        // The file and the chart's copy changed together (`charts generate`): the
        // render still holds exactly the file, under another digest.
        let edited = DASHBOARD.replace("[]", "[2]");
        let mut after = Embedded::default();
        after.add("dashboards/app.json", &edited);
        after.add("charts/app/k6/obi-examples.js", SCRIPT);
        let mutated = super::super::golden_text(&render(&edited, "a"), &after);
        assert!(mutated.contains(&digest(&edited)), "{mutated}");
        assert!(first_difference(&committed, &mutated).is_some());
    }

    #[test]
    fn a_subchart_document_names_the_file_of_the_chart_behind_its_alias() {
        let mut umbrella = render(DASHBOARD, "a");
        umbrella.manifests = umbrella.manifests.replace(
            "# Source: app/templates/k6",
            "# Source: umbrella/charts/a/templates/k6",
        );
        let mut embedded = embedded();
        embedded
            .files
            .values_mut()
            .for_each(|paths| paths.reverse());
        let text = super::super::golden_text(&umbrella, &embedded);
        assert!(text.contains("(charts/app/k6/obi-examples.js)"), "{text}");
    }

    #[test]
    fn block_scalars_are_recognised_and_comments_are_not() {
        assert!(is_block_scalar_header("  app.json: |-"));
        assert!(is_block_scalar_header("  main.js: |"));
        assert!(!is_block_scalar_header("  key: value"));
        assert!(!is_block_scalar_header("  # key: |"));
    }
}
