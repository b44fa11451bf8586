//! The apps of the shop as the automation sees them, read from the registry
//! `apps.toml` at the repository root: name, alias, port, protocol and what the docs
//! say of each. An app "exists" once its crate is in `apps/`.

use std::path::PathBuf;
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::paths;

/// The registry's path, relative to the repository root.
pub const REGISTRY: &str = "apps.toml";

/// How k6 talks to an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/1.1 REST.
    Http,
    /// gRPC (h2c); health and admin still answer HTTP/1.1 on the same port.
    Grpc,
}

impl Protocol {
    /// As the charts' `obi-examples.io/protocol` annotation spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Grpc => "grpc",
        }
    }
}

/// One service of the shop: an `[[app]]` of `apps.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// Crate, binary, image, chart, dashboard and docs name.
    pub name: &'static str,
    /// The umbrella chart's alias of the app's chart.
    pub alias: &'static str,
    /// Local port, and the port of its chart's Service and container.
    pub port: u16,
    /// How load reaches it.
    pub protocol: Protocol,
    /// What it stores in or talks to, for the docs.
    pub backing: &'static str,
    /// What the umbrella's values say it installs.
    pub label: &'static str,
    /// Whether the umbrella installs it by default.
    pub enabled: bool,
    /// One line for the README's table.
    pub summary: &'static str,
    /// The apps it calls, which a local run starts first (checkout's five hops).
    pub calls: &'static [&'static str],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    app: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    alias: String,
    port: u16,
    protocol: Protocol,
    backing: String,
    label: String,
    enabled: bool,
    summary: String,
    #[serde(default)]
    calls: Vec<String>,
}

/// Every app, in the registry's order (the shop's checkout).
pub static ALL: LazyLock<Vec<App>> = LazyLock::new(|| {
    parse(include_str!("../../apps.toml"))
        .unwrap_or_else(|err| panic!("{REGISTRY} is broken (its unit test names why): {err:#}"))
});

/// Parses and validates a registry text.
fn parse(text: &str) -> Result<Vec<App>> {
    let registry: Registry = toml::from_str(text).context("parsing the registry")?;
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let apps: Vec<App> = registry
        .app
        .into_iter()
        .map(|e| App {
            name: leak(e.name),
            alias: leak(e.alias),
            port: e.port,
            protocol: e.protocol,
            backing: leak(e.backing),
            label: leak(e.label),
            enabled: e.enabled,
            summary: leak(e.summary),
            calls: Box::leak(
                e.calls
                    .into_iter()
                    .map(leak)
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
        })
        .collect();
    for (i, app) in apps.iter().enumerate() {
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if !valid(app.name) || !valid(app.alias) {
            bail!(
                "app `{}` (alias `{}`): names and aliases are lowercase letters, digits and dashes",
                app.name,
                app.alias
            );
        }
        for other in &apps[..i] {
            for (what, a, b) in [
                ("name", app.name.to_owned(), other.name.to_owned()),
                ("alias", app.alias.to_owned(), other.alias.to_owned()),
                ("port", app.port.to_string(), other.port.to_string()),
            ] {
                if a == b {
                    bail!(
                        "apps `{}` and `{}` share the {what} {a}",
                        other.name,
                        app.name
                    );
                }
            }
        }
    }
    for app in &apps {
        for called in app.calls {
            if !apps
                .iter()
                .any(|other| other.name == *called && other.name != app.name)
            {
                bail!(
                    "app `{}` calls `{called}`, which is not another app of the registry",
                    app.name
                );
            }
        }
    }
    Ok(apps)
}

impl App {
    /// Looks an app up by name, with an error listing the names.
    pub fn named(name: &str) -> Result<&'static App> {
        ALL.iter().find(|app| app.name == name).ok_or_else(|| {
            let names: Vec<_> = ALL.iter().map(|app| app.name).collect();
            anyhow::anyhow!("no app `{name}`; the apps are: {}", names.join(", "))
        })
    }

    /// Whether the app's crate exists yet.
    pub fn exists(&self) -> bool {
        self.dir().join("Cargo.toml").is_file()
    }

    /// `apps/<name>`.
    pub fn dir(&self) -> PathBuf {
        paths::root().join("apps").join(self.name)
    }

    /// The app's k6 entry script, shipped in its subchart.
    pub fn k6_script(&self) -> PathBuf {
        paths::root()
            .join("charts")
            .join(self.name)
            .join("k6")
            .join("main.js")
    }

    /// Where a local run reaches it.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The apps whose crates exist.
pub fn existing() -> Vec<&'static App> {
    ALL.iter().filter(|app| app.exists()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[app]]
name = "a-app"
alias = "a"
port = 8080
protocol = "http"
backing = "none"
label = "HTTP"
enabled = true
summary = "a"
"#;

    #[test]
    fn the_registry_parses_and_lists_the_apps_in_order() {
        let names: Vec<_> = ALL.iter().map(|app| app.name).collect();
        assert_eq!(names[..2], ["http-rest-api", "grpc-microservice"]);
        assert_eq!(
            App::named("grpc-microservice").unwrap().protocol,
            Protocol::Grpc
        );
    }

    #[test]
    fn an_unknown_name_lists_the_apps() {
        let message = App::named("http-api").unwrap_err().to_string();
        assert!(
            message.contains("http-rest-api, grpc-microservice"),
            "{message}"
        );
    }

    #[test]
    fn every_existing_app_has_its_k6_script() {
        for app in existing() {
            assert!(
                app.k6_script().is_file(),
                "{} has no {}",
                app.name,
                app.k6_script().display()
            );
        }
    }

    #[test]
    fn an_app_may_call_only_other_apps_of_the_registry() {
        assert_eq!(App::named("checkout").unwrap().calls.len(), 5);
        let calls = |names: &str| {
            ONE.replace(
                "summary = \"a\"",
                &format!("summary = \"a\"\ncalls = [{names}]"),
            )
        };
        for bad in ["\"nowhere\"", "\"a-app\""] {
            let err = parse(&calls(bad)).unwrap_err().to_string();
            assert!(err.contains("not another app"), "{err}");
        }
    }

    #[test]
    fn a_shared_port_alias_or_name_is_refused() {
        assert_eq!(parse(ONE).unwrap().len(), 1);
        let twice = |from: &str, to: &str| {
            let second = ONE.replace("a-app", "b-app").replace("\"a\"", "\"b\"");
            format!("{ONE}{}", second.replace(from, to))
        };
        assert!(parse(&twice("8080", "8081")).is_ok());
        for (from, to, what) in [
            ("alias = \"b\"", "alias = \"a\"", "alias a"),
            ("b-app", "a-app", "name a-app"),
            ("8081", "8080", "port 8080"),
        ] {
            let text = twice("8080", "8081").replacen(from, to, 1);
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(what), "{what}: {err}");
        }
    }

    #[test]
    fn unknown_fields_and_protocols_are_refused() {
        assert!(parse(&ONE.replace("label", "lable")).is_err());
        assert!(parse(&ONE.replace("\"http\"", "\"smtp\"")).is_err());
        assert!(parse(&ONE.replace("a-app", "A_app")).is_err());
    }
}
