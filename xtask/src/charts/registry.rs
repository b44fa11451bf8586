//! What follows from the app registry (`apps.toml`, read by [`crate::apps`]):
//!
//! - generated sections, between `BEGIN GENERATED` and `END GENERATED` lines, of
//!   the umbrella's `Chart.yaml` (dependencies) and `values.yaml` (one section per
//!   app), the `Dockerfile` (one stage per app) and the README (the table of apps);
//!   the umbrella's `values.schema.json` whole, from its overlay;
//! - checks that each app's own files agree with it: its chart (annotations, Service
//!   port), dashboard and docs page exist, and nothing under `charts/` or `apps/`
//!   is an app the registry does not know.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::inventory::{APP_ANNOTATION, Chart, PROTOCOL_ANNOTATION};
use super::render::UMBRELLA;
use super::schema;
use crate::apps::App;
use crate::paths;

/// The bundled backend: the umbrella's last dependency, not an app.
pub const BACKEND: (&str, &str) = ("otel-lgtm", "lgtm");
/// Crates under `apps/` that are not apps of the shop.
const NOT_APPS: &[&str] = &["telemetry-check"];
/// Annotation with the app's port (see obi-examples-lib `_names.tpl`).
const PORT_ANNOTATION: &str = "obi-examples.io/port";

/// How one file marks its generated section.
struct Markers {
    begin: &'static str,
    end: &'static str,
}

const YAML_DEPENDENCIES: Markers = Markers {
    begin: "  # BEGIN GENERATED from apps.toml by `cargo xtask charts generate`: the apps, then the backend.",
    end: "  # END GENERATED",
};
const YAML_VALUES: Markers = Markers {
    begin: "# BEGIN GENERATED from apps.toml by `cargo xtask charts generate`: one section per app.",
    end: "# END GENERATED",
};
const DOCKERFILE: Markers = Markers {
    begin: "# BEGIN GENERATED from apps.toml by `cargo xtask charts generate`: one stage per app.",
    end: "# END GENERATED",
};
const MARKDOWN: Markers = Markers {
    begin: "<!-- BEGIN GENERATED from apps.toml by `cargo xtask charts generate` -->",
    end: "<!-- END GENERATED -->",
};

/// Replaces the lines between `markers` in `text` with `body` (which ends with a
/// newline, or is empty).
fn splice(text: &str, markers: &Markers, body: &str) -> Result<String> {
    let begin = text
        .find(&format!("{}\n", markers.begin))
        .with_context(|| format!("no line `{}`", markers.begin))?;
    let body_start = begin + markers.begin.len() + 1;
    let end = text[body_start..]
        .find(&format!("{}\n", markers.end))
        .map(|offset| body_start + offset)
        .with_context(|| format!("no line `{}` after the BEGIN line", markers.end))?;
    Ok(format!("{}{body}{}", &text[..body_start], &text[end..]))
}

/// Every file the registry generates, by path relative to the root.
pub fn expected(apps: &[App], charts: &[Chart]) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let root = paths::root();
    let read = |relative: &str| {
        std::fs::read_to_string(root.join(relative)).with_context(|| format!("reading {relative}"))
    };
    let mut files = BTreeMap::new();
    let mut add = |relative: &str, text: Result<String>| -> Result<()> {
        let text = text.with_context(|| format!("generating {relative}"))?;
        files.insert(PathBuf::from(relative), text.into_bytes());
        Ok(())
    };
    let umbrella = format!("charts/{UMBRELLA}");
    add(
        &format!("{umbrella}/Chart.yaml"),
        splice(
            &read(&format!("{umbrella}/Chart.yaml"))?,
            &YAML_DEPENDENCIES,
            &dependencies(apps, charts)?,
        ),
    )?;
    add(
        &format!("{umbrella}/values.yaml"),
        splice(
            &read(&format!("{umbrella}/values.yaml"))?,
            &YAML_VALUES,
            &values(apps),
        ),
    )?;
    let overlay_path = format!("{umbrella}/{}", schema::OVERLAY);
    let overlay: Value = serde_json::from_str(&read(&overlay_path)?)
        .with_context(|| format!("parsing {overlay_path}"))?;
    add(
        &format!("{umbrella}/values.schema.json"),
        Ok(schema::to_text(&umbrella_schema(apps, &overlay))),
    )?;
    add(
        "Dockerfile",
        splice(&read("Dockerfile")?, &DOCKERFILE, &docker_stages(apps)),
    )?;
    add(
        "README.md",
        splice(&read("README.md")?, &MARKDOWN, &readme_table(apps)),
    )?;
    Ok(files)
}

/// The umbrella's dependencies: each app under its alias, then the backend; each at
/// the version its own `Chart.yaml` has.
fn dependencies(apps: &[App], charts: &[Chart]) -> Result<String> {
    let version = |name: &str| -> Result<&str> {
        charts
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.meta.version.as_str())
            .with_context(|| format!("the umbrella needs charts/{name}, which does not exist"))
    };
    let mut out = String::new();
    let pairs = apps
        .iter()
        .map(|app| (app.name, app.alias))
        .chain(std::iter::once(BACKEND));
    for (name, alias) in pairs {
        out.push_str(&format!(
            "  - name: {name}\n    alias: {alias}\n    version: {}\n    repository: file://../{name}\n    condition: {alias}.enabled\n",
            version(name)?
        ));
    }
    Ok(out)
}

/// The umbrella's values: per app, its alias with a documented `enabled`.
fn values(apps: &[App]) -> String {
    let mut out = String::new();
    for app in apps {
        let comment = format!(
            "-- Install {} ({}); its values go here, see charts/{}.",
            app.name, app.label, app.name
        );
        out.push_str(&format!(
            "{}:\n{}  enabled: {}\n\n",
            app.alias,
            wrapped_comment(&comment, "  ", 90),
            app.enabled
        ));
    }
    out
}

/// `text` as `# ` comment lines of at most `width` columns (a longer word stays whole).
fn wrapped_comment(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = format!("{indent}#");
    for word in text.split(' ') {
        if line.len() + 1 + word.len() > width && line.len() > indent.len() + 1 {
            out.push_str(&line);
            out.push('\n');
            line = format!("{indent}#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The umbrella's schema: its overlay (global and the backend) plus one object per
/// app alias.
fn umbrella_schema(apps: &[App], overlay: &Value) -> Value {
    let mut schema = overlay.clone();
    if let Some(object) = schema.as_object_mut() {
        object.remove("description");
    }
    for app in apps {
        schema["properties"][app.alias] = json!({
            "description": format!("Values of the {} chart (validated by its own schema).", app.name),
            "type": "object",
            "properties": {
                "enabled": {"description": format!("Install {}.", app.name), "type": "boolean"}
            }
        });
    }
    // An app that calls others (checkout) is refused without them, naming each
    // one that is off: one rule per call, so the error points at that alias.
    let mut needs = Vec::new();
    for app in apps {
        for called in app.calls {
            let Some(dependency) = apps.iter().find(|a| a.name == *called) else {
                continue;
            };
            needs.push(json!({
                "$comment": format!(
                    "{} calls {}: {}.enabled=true needs {}.enabled=true",
                    app.name, dependency.name, app.alias, dependency.alias
                ),
                "if": {
                    "properties": {app.alias: {"properties": {"enabled": {"const": true}}, "required": ["enabled"]}},
                    "required": [app.alias]
                },
                "then": {
                    "properties": {dependency.alias: {"properties": {"enabled": {"const": true}}}}
                }
            }));
        }
    }
    if !needs.is_empty() {
        schema["allOf"] = Value::Array(needs);
    }
    schema["$comment"] = format!(
        "GENERATED by `cargo xtask charts generate` from apps.toml and {}: edit those.",
        schema::OVERLAY
    )
    .into();
    schema
}

/// One final Dockerfile stage per app: its binary under its own name, its port.
fn docker_stages(apps: &[App]) -> String {
    let stages: Vec<String> = apps
        .iter()
        .map(|app| {
            format!(
                "FROM runtime AS app-{0}\nEXPOSE {1}\nENTRYPOINT [\"/app/{0}\"]\n",
                app.name, app.port
            )
        })
        .collect();
    stages.join("\n")
}

/// The README's table of apps.
fn readme_table(apps: &[App]) -> String {
    let mut out = String::from(
        "| App | Port | Protocol | Backing service | Umbrella alias | What it does |\n|---|---|---|---|---|---|\n",
    );
    for app in apps {
        out.push_str(&format!(
            "| [{0}](docs/{0}.md) | {1} | {2} | {3} | `{4}` | {5} |\n",
            app.name,
            app.port,
            app.protocol.as_str(),
            app.backing,
            app.alias,
            app.summary
        ));
    }
    out
}

/// What an app chart's own files say about the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFacts {
    /// `obi-examples.io/app`.
    pub app: Option<String>,
    /// `obi-examples.io/port`.
    pub port: Option<String>,
    /// `obi-examples.io/protocol`.
    pub protocol: Option<String>,
    /// `service.port` of `values.yaml`.
    pub service_port: Option<u64>,
}

impl ChartFacts {
    fn read(chart: &Chart) -> Result<Self> {
        let annotation = |key: &str| chart.meta.annotations.get(key).cloned();
        let values_file = chart.dir.join("values.yaml");
        let values: Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(&values_file)
                .with_context(|| format!("reading {}", values_file.display()))?,
        )
        .with_context(|| format!("parsing {}", values_file.display()))?;
        Ok(Self {
            app: annotation(APP_ANNOTATION),
            port: annotation(PORT_ANNOTATION),
            protocol: annotation(PROTOCOL_ANNOTATION),
            service_port: values["service"]["port"].as_u64(),
        })
    }
}

/// Where an app's chart disagrees with its registry entry.
pub fn chart_problems(app: &App, facts: &ChartFacts) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |what: &str, found: Option<String>, wanted: String| {
        if found.as_deref() != Some(wanted.as_str()) {
            problems.push(format!(
                "charts/{}: {what} is {}, but {} says {wanted}",
                app.name,
                found.map_or("missing".to_owned(), |f| format!("{f:?}")),
                crate::apps::REGISTRY
            ));
        }
    };
    expect(
        &format!("annotation {APP_ANNOTATION}"),
        facts.app.clone(),
        app.name.to_owned(),
    );
    expect(
        &format!("annotation {PORT_ANNOTATION}"),
        facts.port.clone(),
        app.port.to_string(),
    );
    expect(
        &format!("annotation {PROTOCOL_ANNOTATION}"),
        facts.protocol.clone(),
        app.protocol.as_str().to_owned(),
    );
    expect(
        "values.yaml service.port",
        facts.service_port.map(|p| p.to_string()),
        app.port.to_string(),
    );
    problems
}

/// Every disagreement between the registry and the repository.
pub fn check(apps: &[App], charts: &[Chart]) -> Result<Vec<String>> {
    let root = paths::root();
    let mut problems = Vec::new();
    for app in apps {
        match charts.iter().find(|c| c.name == app.name) {
            Some(chart) => problems.extend(chart_problems(app, &ChartFacts::read(chart)?)),
            None => problems.push(format!("{}: no chart charts/{}", app.name, app.name)),
        }
        for own in [
            format!("dashboards/{}.json", app.name),
            format!("docs/{}.md", app.name),
        ] {
            if !root.join(&own).is_file() {
                problems.push(format!("{}: no {own}", app.name));
            }
        }
    }
    let known = |name: &str| apps.iter().any(|app| app.name == name);
    for chart in charts.iter().filter(|c| c.app().is_some()) {
        if !known(&chart.name) {
            problems.push(format!(
                "charts/{} is an app chart, but {} has no app of that name",
                chart.name,
                crate::apps::REGISTRY
            ));
        }
    }
    for entry in std::fs::read_dir(root.join("apps")).context("reading apps/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if root.join("apps").join(&name).join("Cargo.toml").is_file()
            && !known(&name)
            && !NOT_APPS.contains(&name.as_str())
        {
            problems.push(format!(
                "apps/{name} is a crate that {} does not list",
                crate::apps::REGISTRY
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::{ALL, Protocol};

    fn app() -> App {
        App {
            name: "checkout",
            alias: "checkout",
            port: 8084,
            protocol: Protocol::Http,
            backing: "the five apps",
            label: "the journey across all five",
            enabled: false,
            summary: "the journey",
            calls: &["http-rest-api"],
        }
    }

    #[test]
    fn a_section_between_markers_is_replaced_and_the_rest_kept() {
        let text = "head\n# BEGIN GENERATED from apps.toml by `cargo xtask charts generate`: one section per app.\nold\n# END GENERATED\ntail\n";
        let spliced = splice(text, &YAML_VALUES, "new\n").unwrap();
        assert!(spliced.starts_with("head\n# BEGIN"), "{spliced}");
        assert!(spliced.contains("one section per app.\nnew\n# END GENERATED\ntail\n"));
        let err = splice("head\n", &YAML_VALUES, "new\n").unwrap_err();
        assert!(err.to_string().contains("BEGIN GENERATED"), "{err}");
    }

    #[test]
    fn a_new_app_is_a_section_of_values_a_stage_and_a_row() {
        let new = app();
        let values = values(&[new]);
        assert_eq!(
            values,
            "checkout:\n  # -- Install checkout (the journey across all five); its values go here, see\n  # charts/checkout.\n  enabled: false\n\n"
        );
        assert_eq!(
            docker_stages(&[new]),
            "FROM runtime AS app-checkout\nEXPOSE 8084\nENTRYPOINT [\"/app/checkout\"]\n"
        );
        assert!(readme_table(&[new]).contains("| [checkout](docs/checkout.md) | 8084 | http |"));
        let schema = umbrella_schema(&[new], &json!({"properties": {"global": {}}}));
        assert_eq!(schema["properties"]["checkout"]["type"], "object");
        assert!(schema["properties"]["global"].is_object());
    }

    #[test]
    fn an_app_is_refused_by_the_schema_without_each_app_it_calls() {
        let apps = [
            *App::named("http-rest-api").unwrap(),
            *App::named("sql-application").unwrap(),
            App {
                calls: &["http-rest-api", "sql-application"],
                ..app()
            },
        ];
        let schema = umbrella_schema(&apps, &json!({"properties": {}}));
        let rules = schema["allOf"].as_array().unwrap();
        assert_eq!(rules.len(), 2, "one rule per call");
        for (rule, alias) in rules.iter().zip(["http", "sql"]) {
            assert_eq!(
                rule["if"]["properties"]["checkout"]["properties"]["enabled"]["const"],
                true
            );
            assert_eq!(
                rule["then"]["properties"][alias]["properties"]["enabled"]["const"], true,
                "{rule}"
            );
        }
        // An app that calls none adds no rule.
        let alone = umbrella_schema(&apps[..2], &json!({"properties": {}}));
        assert!(alone.get("allOf").is_none());
    }

    #[test]
    fn comments_wrap_at_the_width_and_keep_short_lines_whole() {
        assert_eq!(wrapped_comment("-- a b", "  ", 90), "  # -- a b\n");
        assert_eq!(wrapped_comment("aaaa bbbb", "", 8), "# aaaa\n# bbbb\n");
    }

    #[test]
    fn the_dependencies_need_each_chart_and_take_its_version() {
        let err = dependencies(&ALL, &[]).unwrap_err();
        assert!(err.to_string().contains("charts/http-rest-api"), "{err}");
    }

    fn facts() -> ChartFacts {
        ChartFacts {
            app: Some("checkout".into()),
            port: Some("8084".into()),
            protocol: Some("http".into()),
            service_port: Some(8084),
        }
    }

    #[test]
    fn a_chart_that_agrees_with_the_registry_passes() {
        assert_eq!(chart_problems(&app(), &facts()), Vec::<String>::new());
    }

    #[test]
    fn each_disagreeing_chart_fact_is_named() {
        type Mutation = (&'static str, fn(&mut ChartFacts));
        let mutations: [Mutation; 4] = [
            ("obi-examples.io/app", |f| f.app = Some("cart".into())),
            ("obi-examples.io/port", |f| f.port = Some("8080".into())),
            ("obi-examples.io/protocol", |f| f.protocol = None),
            ("service.port", |f| f.service_port = Some(80)),
        ];
        for (what, mutate) in mutations {
            let mut facts = facts();
            mutate(&mut facts);
            let problems = chart_problems(&app(), &facts);
            assert_eq!(problems.len(), 1, "{what}: {problems:?}");
            assert!(problems[0].contains(what), "{problems:?}");
        }
    }
}
