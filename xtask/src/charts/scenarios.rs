//! The scenario registry: every fault of every app, joined from the sources that
//! define it, never kept by hand:
//!
//! - the app's fault catalog (`CATALOG: Catalog` in its `src/`) and the kit's common
//!   faults ([`catalog`]);
//! - its values key `faults.<name>.enabled` (`charts/<app>/values.yaml`) and the
//!   `x-fault-*` header that plays it on one request;
//! - the line of the k6 mix that plays it (`charts/<app>/k6/main.js`), if any;
//! - its symptom spec `charts/<app>/telemetry/<app>-<name>.yaml`: the PromQL and
//!   TraceQL `helm test` runs;
//! - its guide entry in `docs/scenarios/<app>.toml` (the user's question, the
//!   dashboard panels that show it, root cause, fix), falling back to
//!   `docs/scenarios/kit.toml` for the kit's faults; every panel must exist in
//!   `dashboards/<app>.json` and query a metric the spec checks.
//!
//! [`check`] (a step of `cargo xtask charts check`) fails when a catalog entry has no
//! spec, no values key, no guide entry or no panel, and when a spec or guide entry
//! names a fault no catalog has. docs/troubleshooting.md's scenario library is
//! generated from the registry ([`guide`]).

mod catalog;
pub mod guide;
mod spec;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::apps;
use crate::paths;
pub use spec::{Spec, parse as parse_spec};

/// Where the hand-written part of each scenario lives: `<dir>/<app>.toml`.
pub const GUIDES: &str = "docs/scenarios";
/// The guide entries for the kit's faults, shared by every app.
const KIT_GUIDE: &str = "docs/scenarios/kit.toml";

/// Everything the registry is built from, read once (tests change it in memory).
#[derive(Debug, Clone)]
pub struct Sources {
    /// `crates/service-kit/src/faults/settings.rs`.
    pub kit: String,
    /// `docs/scenarios/kit.toml`.
    pub kit_guide: String,
    pub apps: Vec<AppSources>,
}

/// One app's files.
#[derive(Debug, Clone)]
pub struct AppSources {
    pub app: String,
    /// The umbrella's alias of the app's chart.
    pub alias: String,
    /// The source file holding the catalog (repository path) and its text.
    pub catalog: Option<(String, String)>,
    pub values: String,
    pub k6: String,
    /// Spec file name → text, from `charts/<app>/telemetry/`.
    pub specs: BTreeMap<String, String>,
    pub dashboard: String,
    /// `docs/scenarios/<app>.toml`, if it exists.
    pub guide: Option<String>,
}

/// One scenario, joined from its sources.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub app: String,
    pub alias: String,
    pub name: String,
    /// A fault of the kit (`latency`, `errors`) rather than of the app's catalog.
    pub kit: bool,
    /// The catalog's description.
    pub description: String,
    /// The repository path of the catalog that declares it.
    pub catalog: String,
    /// The `x-fault-*` header (name and value) that plays it on one request.
    pub header: (String, String),
    /// The trimmed line of the k6 mix that plays it, if the mix does.
    pub k6: Option<String>,
    pub spec: Option<Spec>,
    pub question: String,
    pub panels: Vec<String>,
    pub cause: String,
    pub fix: String,
}

impl Scenario {
    /// The chart value that switches it on.
    pub fn values_key(&self) -> String {
        format!("faults.{}.enabled", self.name)
    }
}

/// The hand-written part of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideEntry {
    /// The question a user starts from, in their words.
    question: Option<String>,
    /// Dashboard panel titles, the first one to look at first.
    #[serde(default)]
    panels: Vec<String>,
    /// Why it happens.
    cause: Option<String>,
    /// What a user would change in real life.
    fix: Option<String>,
}

/// Reads every source from the repository.
pub fn load() -> Result<Sources> {
    let root = paths::root();
    let read = |relative: &str| {
        std::fs::read_to_string(root.join(relative)).with_context(|| format!("reading {relative}"))
    };
    let mut apps = Vec::new();
    for app in apps::existing() {
        let name = app.name;
        let mut specs = BTreeMap::new();
        let spec_dir = root.join(format!("charts/{name}/telemetry"));
        if let Ok(entries) = std::fs::read_dir(&spec_dir) {
            for entry in entries {
                let file = entry?.file_name().to_string_lossy().into_owned();
                if file.ends_with(".yaml") {
                    specs.insert(
                        file.clone(),
                        read(&format!("charts/{name}/telemetry/{file}"))?,
                    );
                }
            }
        }
        apps.push(AppSources {
            app: name.to_owned(),
            alias: app.alias.to_owned(),
            catalog: find_catalog(root, name)?,
            values: read(&format!("charts/{name}/values.yaml"))?,
            k6: read(&format!("charts/{name}/k6/main.js")).unwrap_or_default(),
            specs,
            dashboard: read(&format!("dashboards/{name}.json")).unwrap_or_default(),
            guide: read(&format!("{GUIDES}/{name}.toml")).ok(),
        });
    }
    Ok(Sources {
        kit: read(catalog::KIT_SETTINGS)?,
        kit_guide: read(KIT_GUIDE)?,
        apps,
    })
}

/// The `.rs` file under `apps/<app>/src/` that declares the catalog constant.
fn find_catalog(root: &Path, app: &str) -> Result<Option<(String, String)>> {
    let mut stack = vec![root.join(format!("apps/{app}/src"))];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)?;
                if text.contains(&format!("pub const {}", catalog::CATALOG_MARK)) {
                    let relative = path.strip_prefix(root).unwrap_or(&path);
                    found.push((relative.display().to_string(), text));
                }
            }
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// The registry and the problems found while joining it.
pub fn build(sources: &Sources) -> Result<(Vec<Scenario>, Vec<String>)> {
    let kit = catalog::kit(&sources.kit)?;
    let kit_guide: BTreeMap<String, GuideEntry> =
        toml::from_str(&sources.kit_guide).with_context(|| format!("parsing {KIT_GUIDE}"))?;
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for app in &sources.apps {
        let name = &app.app;
        let mut entries: Vec<(catalog::Entry, bool, String)> = kit
            .iter()
            .map(|e| (e.clone(), true, catalog::KIT_SETTINGS.to_owned()))
            .collect();
        match &app.catalog {
            Some((path, text)) => match catalog::app(text) {
                Ok(own) => entries.extend(own.into_iter().map(|e| (e, false, path.clone()))),
                Err(err) => problems.push(format!("{path}: {err:#}")),
            },
            None => problems.push(format!(
                "apps/{name}/src: no `pub const {}` constant (the app's fault catalog)",
                catalog::CATALOG_MARK
            )),
        }
        let guide_path = format!("{GUIDES}/{name}.toml");
        let mut guide: BTreeMap<String, GuideEntry> = match &app.guide {
            Some(text) => toml::from_str(text).with_context(|| format!("parsing {guide_path}"))?,
            None => {
                problems.push(format!(
                    "{guide_path} is missing: every fault of {name} needs its guide entry"
                ));
                BTreeMap::new()
            }
        };
        let values: serde_yaml_ng::Value = serde_yaml_ng::from_str(&app.values)
            .with_context(|| format!("parsing charts/{name}/values.yaml"))?;
        let panels = dashboard_panels(&app.dashboard)
            .with_context(|| format!("parsing dashboards/{name}.json"))?;
        let known: BTreeSet<&str> = entries.iter().map(|(e, ..)| e.name.as_str()).collect();

        for spec_file in app.specs.keys() {
            let fault = spec_file
                .strip_suffix(".yaml")
                .and_then(|s| s.strip_prefix(&format!("{name}-")));
            if let Some(fault) = fault.filter(|f| !known.contains(f)) {
                problems.push(format!(
                    "charts/{name}/telemetry/{spec_file}: `{fault}` is in no catalog of {name}"
                ));
            }
        }
        for stale in guide.keys().filter(|k| !known.contains(k.as_str())) {
            problems.push(format!(
                "{guide_path}: [{stale}] is in no catalog of {name}"
            ));
        }

        for (entry, is_kit, catalog_path) in entries {
            let fault = entry.name.clone();
            let at = format!("{name} `{fault}`");
            let own = guide.remove(&fault);
            if own.is_none() {
                problems.push(format!("{at}: no guide entry [{fault}] in {guide_path}"));
            }
            let own = own.unwrap_or_default();
            let shared = if is_kit {
                kit_guide.get(&fault).cloned().unwrap_or_default()
            } else {
                GuideEntry::default()
            };
            let mut text = |own: Option<String>, shared: Option<String>, what: &str| {
                own.or(shared).unwrap_or_else(|| {
                    problems.push(format!("{at}: the guide entry has no `{what}`"));
                    String::new()
                })
            };
            let question = text(own.question, shared.question, "question");
            let cause = text(own.cause, shared.cause, "cause");
            let fix = text(own.fix, shared.fix, "fix");

            let spec_file = format!("{name}-{fault}.yaml");
            let spec = match app.specs.get(&spec_file) {
                Some(text) => {
                    match spec::parse(&format!("charts/{name}/telemetry/{spec_file}"), text) {
                        Ok(spec) => Some(spec),
                        Err(err) => {
                            problems.push(format!("{err:#}"));
                            None
                        }
                    }
                }
                None => {
                    problems.push(format!(
                        "{at}: no symptom spec charts/{name}/telemetry/{spec_file}"
                    ));
                    None
                }
            };
            if !values_has(&values, &["faults", &fault, "enabled"]) {
                problems.push(format!(
                    "{at}: charts/{name}/values.yaml has no `faults.{fault}.enabled`"
                ));
            }
            if own.panels.is_empty() {
                problems.push(format!(
                    "{at}: no dashboard panel (`panels` in {guide_path})"
                ));
            }
            let spec_metrics = spec.as_ref().map(Spec::metrics).unwrap_or_default();
            for title in &own.panels {
                match panels.get(title) {
                    None => problems.push(format!(
                        "{at}: panel \"{title}\" is not in dashboards/{name}.json"
                    )),
                    Some(exprs) if !spec_metrics.is_empty() => {
                        let shown = spec::metric_names(exprs);
                        if shown.is_disjoint(&spec_metrics) {
                            problems.push(format!(
                                "{at}: panel \"{title}\" queries none of the metrics its spec checks ({})",
                                spec_metrics.iter().cloned().collect::<Vec<_>>().join(", ")
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            let header = header(&fault, is_kit);
            let k6 = mix_line(&app.k6, &fault, is_kit, &header.0);
            scenarios.push(Scenario {
                app: name.clone(),
                alias: app.alias.clone(),
                name: fault,
                kit: is_kit,
                description: entry.description,
                catalog: catalog_path,
                header,
                k6,
                spec,
                question,
                panels: own.panels,
                cause,
                fix,
            });
        }
    }
    Ok((scenarios, problems))
}

/// The gate's step: the registry's problems.
pub fn check() -> Result<Vec<String>> {
    Ok(build(&load()?)?.1)
}

/// Whether `path` leads to a value in a YAML document.
fn values_has(values: &serde_yaml_ng::Value, path: &[&str]) -> bool {
    path.iter()
        .try_fold(values, |node, key| node.get(*key))
        .is_some()
}

/// Panel title → the expressions of its targets, rows and nested panels included.
fn dashboard_panels(text: &str) -> Result<BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    if text.is_empty() {
        return Ok(found);
    }
    let dashboard: serde_json::Value = serde_json::from_str(text)?;
    let mut stack: Vec<&serde_json::Value> = dashboard["panels"]
        .as_array()
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    while let Some(panel) = stack.pop() {
        if let Some(nested) = panel["panels"].as_array() {
            stack.extend(nested);
        }
        let Some(title) = panel["title"].as_str() else {
            continue;
        };
        let exprs: Vec<&str> = panel["targets"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["expr"].as_str()).collect())
            .unwrap_or_default();
        found.insert(title.to_owned(), exprs.join("\n"));
    }
    Ok(found)
}

/// The header (name, example value) that plays a fault on one request.
fn header(fault: &str, kit: bool) -> (String, String) {
    match (fault, kit) {
        ("latency", true) => ("x-fault-delay".into(), "250ms".into()),
        ("errors", true) => ("x-fault-error".into(), "503".into()),
        _ => ("x-fault-scenario".into(), fault.into()),
    }
}

/// The first line of the k6 mix that sends the fault's header (kit faults) or names
/// the scenario in quotes.
fn mix_line(script: &str, fault: &str, kit: bool, header: &str) -> Option<String> {
    let needles: Vec<String> = if kit {
        vec![format!("'{header}'"), format!("\"{header}\"")]
    } else {
        vec![format!("'{fault}'"), format!("\"{fault}\"")]
    };
    script
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && !line.starts_with('*'))
        .find(|line| needles.iter().any(|n| line.contains(n.as_str())))
        .map(str::to_owned)
}
