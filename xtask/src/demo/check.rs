//! `cargo xtask demo check`: the charts' telemetry specs (what `helm test` runs)
//! against the demo's Prometheus and Jaeger. First an inventory of what OBI sent
//! per app, so that "no data" is named as such; then telemetry-check itself.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::backends;
use crate::apps::{self, App};
use crate::process::{self, Profile};
use crate::{ci, cmd, http};

/// What the backends hold for one app.
#[derive(Debug, Clone, PartialEq)]
pub struct Presence {
    /// The app (OBI's service name).
    pub app: &'static str,
    /// Series with its `service_name` in Prometheus.
    pub series: u64,
    /// Whether Jaeger knows it as a service.
    pub traced: bool,
}

/// The command line: `[--app A] [--fault F]... [--timeout 1m]`.
#[derive(Debug, PartialEq)]
pub struct Options {
    app: Option<String>,
    faults: Vec<String>,
    timeout: String,
}

impl Options {
    fn parse(args: &[&str]) -> Result<Self> {
        let mut options = Self {
            app: None,
            faults: Vec::new(),
            timeout: "1m".to_owned(),
        };
        let mut rest = args.iter();
        while let Some(flag) = rest.next() {
            let value = rest
                .next()
                .with_context(|| format!("{flag} needs a value"))?
                .to_string();
            match *flag {
                "--app" => options.app = Some(value),
                "--fault" => options.faults.push(value),
                "--timeout" => options.timeout = value,
                other => bail!(
                    "unknown option `{other}`: cargo xtask demo check [--app A] [--fault F] [--timeout 1m]"
                ),
            }
        }
        Ok(options)
    }
}

/// What is missing, one line per app without data; empty when every app has some.
pub fn missing(presence: &[Presence], obi_scraped: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if !obi_scraped {
        lines.push(format!(
            "Prometheus cannot scrape OBI at 127.0.0.1:{} (OBI is not attached, or not with target/demo/obi.yaml)",
            backends::OBI_METRICS_PORT
        ));
    }
    for p in presence {
        let mut what = Vec::new();
        if p.series == 0 {
            what.push(format!(
                "no metric series with service_name=\"{}\" in Prometheus",
                p.app
            ));
        }
        if !p.traced {
            what.push(format!("no service \"{}\" in Jaeger", p.app));
        }
        if !what.is_empty() {
            lines.push(format!("{}: {}", p.app, what.join(", ")));
        }
    }
    lines
}

/// Percent-encodes a query parameter.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sum of an instant query's values.
fn query(promql: &str) -> Result<f64> {
    let url = format!(
        "{}/api/v1/query?query={}",
        backends::prometheus_url(),
        encode(promql)
    );
    let (status, body) = http::get(&url, Duration::from_secs(5))?;
    if status != 200 {
        bail!("{url} answered {status}: {body}");
    }
    let json: Value = serde_json::from_str(&body)?;
    Ok(json["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["value"][1].as_str()?.parse::<f64>().ok())
        .sum())
}

fn inventory(apps: &[&'static App]) -> Result<(Vec<Presence>, bool)> {
    let reach = |what: &str, url: String| -> Result<String> {
        match http::get(&url, Duration::from_secs(5)) {
            Ok((200, body)) => Ok(body),
            _ => bail!(
                "{what} does not answer at {url}: start `cargo xtask demo` first (it runs Prometheus and Jaeger)"
            ),
        }
    };
    reach(
        "Prometheus",
        format!("{}/-/ready", backends::prometheus_url()),
    )?;
    let services = reach("Jaeger", format!("{}/api/services", backends::jaeger_url()))?;
    let services: Value = serde_json::from_str(&services).context("Jaeger's /api/services")?;
    let traced = |app: &str| {
        services["data"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s.as_str() == Some(app))
    };
    let obi_scraped = query("up{job=\"obi\"}")? > 0.0;
    let mut presence = Vec::new();
    for app in apps {
        presence.push(Presence {
            app: app.name,
            series: query(&format!("count({{service_name=\"{}\"}})", app.name))? as u64,
            traced: traced(app.name),
        });
    }
    Ok((presence, obi_scraped))
}

/// `cargo xtask demo check [--app A] [--fault F]... [--timeout 1m]`.
pub fn run(args: &[&str]) -> Result<()> {
    let options = Options::parse(args)?;
    let apps: Vec<&'static App> = match &options.app {
        Some(name) => vec![App::named(name)?],
        None => apps::existing(),
    };
    let (presence, obi_scraped) = inventory(&apps)?;
    for p in &presence {
        say!(
            "demo check: {:<20} {:>5} metric series, traces: {}",
            p.app,
            p.series,
            if p.traced { "yes" } else { "none" }
        );
    }
    let missing = missing(&presence, obi_scraped);

    let mut build = ci::cargo();
    // The debug build: the tests already made it, and a checker needs no speed.
    build.args(["build", "--locked", "-p", "telemetry-check"]);
    cmd::run(&mut build)?;
    let specs: Vec<String> = apps
        .iter()
        .map(|app| {
            crate::paths::root()
                .join("charts")
                .join(app.name)
                .join("telemetry")
                .display()
                .to_string()
        })
        .collect();
    let mut check = cmd::new(process::binary_named("telemetry-check", Profile::Debug));
    check
        .arg(specs.join(","))
        .args(["--prometheus-url", &backends::prometheus_url()])
        .args(["--traces-backend", "jaeger"])
        .args(["--traces-url", &backends::jaeger_url()])
        .args(["--timeout", &options.timeout])
        .args(["--zero-code", "off"]);
    if !options.faults.is_empty() {
        check.args(["--faults", &options.faults.join(",")]);
    }
    let status = check.status().context("cannot run telemetry-check")?;
    if status.success() {
        say!("demo check: every spec holds against what OBI sent");
        return Ok(());
    }
    if missing.is_empty() {
        bail!("telemetry-check failed ({status}): the report above names the expectations");
    }
    bail!(
        "no data: OBI's telemetry is missing, so the specs cannot hold ({status}):\n  {}\n\
         Attach OBI with the command `cargo xtask demo` printed, let the load run a minute, and check again.",
        missing.join("\n  ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(app: &'static str, series: u64, traced: bool) -> Presence {
        Presence {
            app,
            series,
            traced,
        }
    }

    #[test]
    fn without_obi_every_app_and_the_scrape_are_named() {
        let lines = missing(
            &[
                presence("http-rest-api", 0, false),
                presence("redis-cache", 0, false),
            ],
            false,
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("cannot scrape OBI at 127.0.0.1:9400"));
        assert_eq!(
            lines[1],
            "http-rest-api: no metric series with service_name=\"http-rest-api\" in Prometheus, no service \"http-rest-api\" in Jaeger"
        );
    }

    #[test]
    fn apps_with_data_are_not_missing_and_half_data_is_named() {
        assert!(missing(&[presence("http-rest-api", 12, true)], true).is_empty());
        let lines = missing(&[presence("grpc-microservice", 40, false)], true);
        assert_eq!(
            lines,
            ["grpc-microservice: no service \"grpc-microservice\" in Jaeger"]
        );
    }

    #[test]
    fn options_parse_and_unknown_ones_are_refused() {
        let options = Options::parse(&[
            "--app",
            "sql-application",
            "--fault",
            "n_plus_one",
            "--timeout",
            "30s",
        ])
        .unwrap();
        assert_eq!(options.app.as_deref(), Some("sql-application"));
        assert_eq!(options.faults, ["n_plus_one"]);
        assert_eq!(options.timeout, "30s");
        assert!(Options::parse(&["--ap", "x"]).is_err());
        assert!(Options::parse(&["--app"]).is_err());
    }

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            encode("count({service_name=\"a b\"})"),
            "count%28%7Bservice_name%3D%22a%20b%22%7D%29"
        );
    }
}
