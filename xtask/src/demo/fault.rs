//! Scenarios from the terminal: the admin token the demo generates, the list of
//! each app's faults from its own catalog (`GET /admin/faults`), and switching one
//! on or off (`PUT /admin/faults/<name>`).

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::apps::{self, App};
use crate::{http, paths};

/// The faults every app has besides its catalog's scenarios.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "latency",
        "added delay before a request is handled (200 ms by default)",
    ),
    (
        "errors",
        "a share of requests answered 500 (10 % by default)",
    ),
];

/// A fresh random admin token, saved (mode 0600) as `dir/admin-token`.
pub fn new_token(dir: &Path) -> Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("cannot read /dev/urandom")?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join("admin-token");
    let _ = std::fs::remove_file(&path);
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| file.write_all(token.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

fn token() -> Result<String> {
    let path = paths::target().join("demo/admin-token");
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .with_context(|| {
            format!(
                "no admin token at {}: start `cargo xtask demo` first",
                path.display()
            )
        })
}

/// A switch asked for on the command line.
#[derive(Debug, PartialEq)]
pub struct Switch {
    /// The app's name or alias.
    pub app: String,
    /// The fault: `latency`, `errors` or a scenario of the app's catalog.
    pub fault: String,
    /// On or off.
    pub on: bool,
    /// The share of requests affected, when given.
    pub rate: Option<f64>,
}

impl Switch {
    /// Parses `<app> <fault> on|off [--rate R]`.
    pub fn parse(args: &[&str]) -> Result<Self> {
        let usage = "usage: cargo xtask demo fault <app> <fault> on|off [--rate 0.0-1.0]";
        let (app, fault, state, rest) = match args {
            [app, fault, state, rest @ ..] => (app, fault, state, rest),
            _ => bail!("{usage}"),
        };
        let on = match *state {
            "on" => true,
            "off" => false,
            other => bail!("`{other}`: expected on or off\n{usage}"),
        };
        let rate = match rest {
            [] => None,
            ["--rate", rate] => {
                let rate: f64 = rate
                    .parse()
                    .with_context(|| format!("--rate {rate}: not a number"))?;
                if !(0.0..=1.0).contains(&rate) {
                    bail!("--rate {rate}: a share between 0.0 and 1.0");
                }
                Some(rate)
            }
            _ => bail!("{usage}"),
        };
        Ok(Self {
            app: (*app).to_owned(),
            fault: (*fault).to_owned(),
            on,
            rate,
        })
    }

    /// The body of `PUT /admin/faults/<fault>`: unnamed fields keep the app's defaults.
    pub fn body(&self) -> Value {
        let mut body = json!({ "enabled": self.on });
        if let Some(rate) = self.rate {
            body["rate"] = json!(rate);
        }
        body
    }
}

fn find(name: &str) -> Result<&'static App> {
    apps::ALL
        .iter()
        .find(|app| app.alias == name)
        .map_or_else(|| App::named(name), Ok)
}

fn admin(method: &str, app: &App, path: &str, body: Option<&Value>) -> Result<Value> {
    let token = token()?;
    if !http::ok(
        &format!("{}/healthz", app.base_url()),
        Duration::from_secs(2),
    ) {
        bail!(
            "{} does not answer on {}: is `cargo xtask demo` running?",
            app.name,
            app.base_url()
        );
    }
    let auth = format!("Bearer {token}");
    http::send_json(
        method,
        &app.base_url(),
        path,
        &[("authorization", &auth)],
        body,
        200,
    )
    .with_context(|| format!("{} refused it", app.name))
}

/// The lines describing an app's faults from its `/admin/faults` document.
pub fn describe(document: &Value) -> Vec<String> {
    let settings = &document["settings"];
    let state = |name: &str| {
        if settings[name]["enabled"].as_bool() == Some(true) {
            "ON "
        } else {
            "off"
        }
    };
    let mut lines: Vec<String> = BUILT_IN
        .iter()
        .map(|(name, what)| format!("  {} {name:<18} {what}", state(name)))
        .collect();
    for scenario in document["scenarios"].as_array().into_iter().flatten() {
        let name = scenario["name"].as_str().unwrap_or("?");
        let what = scenario["description"].as_str().unwrap_or("");
        lines.push(format!("  {} {name:<18} {what}", state(name)));
    }
    lines
}

/// `cargo xtask demo faults [app]`: every running app's faults and their state.
pub fn list(only: Option<&str>) -> Result<()> {
    let chosen: Vec<&App> = match only {
        Some(name) => vec![find(name)?],
        None => apps::existing(),
    };
    for app in chosen {
        let document = admin("GET", app, "/admin/faults", None)?;
        println!("{}:", app.name);
        for line in describe(&document) {
            println!("{line}");
        }
    }
    println!(
        "\nSwitch one: cargo xtask demo fault <app> <fault> on|off [--rate 0.0-1.0]\n\
         Symptoms in OBI's terms: docs/<app>.md and the charts' telemetry/<app>-<fault>.yaml"
    );
    Ok(())
}

/// `cargo xtask demo fault <app> <fault> on|off [--rate R]`.
pub fn switch(args: &[&str]) -> Result<()> {
    let switch = Switch::parse(args)?;
    let app = find(&switch.app)?;
    let path = format!("/admin/faults/{}", switch.fault);
    let document = admin("PUT", app, &path, Some(&switch.body()))?;
    let line = describe(&document)
        .into_iter()
        .find(|line| line.split_whitespace().nth(1) == Some(switch.fault.as_str()))
        .unwrap_or_default();
    println!("{}:\n{line}", app.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_parses_with_and_without_a_rate() {
        let switch = Switch::parse(&["sql", "n_plus_one", "on"]).unwrap();
        assert_eq!(switch.body(), json!({"enabled": true}));
        let switch = Switch::parse(&["sql", "n_plus_one", "on", "--rate", "0.5"]).unwrap();
        assert_eq!(switch.body(), json!({"enabled": true, "rate": 0.5}));
        assert_eq!(
            Switch::parse(&["sql", "errors", "off"]).unwrap().body(),
            json!({"enabled": false})
        );
    }

    #[test]
    fn a_bad_switch_says_what_is_expected() {
        for (args, expected) in [
            (&["sql", "n_plus_one"][..], "usage"),
            (&["sql", "n_plus_one", "yes"][..], "expected on or off"),
            (
                &["sql", "n_plus_one", "on", "--rate", "2"][..],
                "between 0.0 and 1.0",
            ),
            (
                &["sql", "n_plus_one", "on", "--rate", "x"][..],
                "not a number",
            ),
        ] {
            let message = format!("{:#}", Switch::parse(args).unwrap_err());
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[test]
    fn apps_are_found_by_name_or_alias() {
        assert_eq!(find("sql").unwrap().name, "sql-application");
        assert_eq!(find("redis-cache").unwrap().name, "redis-cache");
        assert!(find("mysql").is_err());
    }

    #[test]
    fn the_catalog_lists_built_in_faults_then_scenarios_with_their_state() {
        let document = json!({
            "settings": {"latency": {"enabled": false}, "errors": {"enabled": true},
                         "n_plus_one": {"enabled": true, "rate": 1.0}},
            "scenarios": [{"name": "n_plus_one", "description": "lists load items one query per order"}],
        });
        let lines = describe(&document);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("  off latency"), "{lines:?}");
        assert!(lines[1].starts_with("  ON  errors"), "{lines:?}");
        assert!(
            lines[2].contains("n_plus_one") && lines[2].contains("one query per order"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_new_token_is_private_and_random() {
        use std::os::unix::fs::PermissionsExt;
        let dir = paths::target().join("demo-token-test");
        std::fs::create_dir_all(&dir).unwrap();
        let first = new_token(&dir).unwrap();
        let mode = std::fs::metadata(dir.join("admin-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(first.len(), 32);
        assert_ne!(new_token(&dir).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
