//! [`K6Workload`]: an app's chart k6 script as a bench row (the `bench` profile of the
//! k6 library, `--vus` clients as fast as answered).

use std::path::PathBuf;

use anyhow::Result;

use super::{Measure, Sample, Settings};
use crate::apps::{App, Protocol};
use crate::{k6, paths, process};

/// A k6 script run with the k6 library's `bench` profile: `vus` clients as fast as
/// the target answers, for `duration`: an app's realistic mix, next to the rows of
/// lighter clients.
#[derive(Debug, Clone)]
pub struct K6Workload {
    /// Shown in the report.
    name: String,
    /// The script; it picks its mix from `env` (e.g. `MIX=read`).
    script: PathBuf,
    /// Base URL of the target (the app, or a baseline server).
    target_url: String,
    /// Extra `-e` variables.
    env: Vec<(String, String)>,
    /// Which metrics to read.
    protocol: Protocol,
}

impl K6Workload {
    /// `app`'s own chart script (`charts/<app>/k6/main.js`) against the app, with `MIX=mix`.
    pub fn app_mix(app: &App, name: &str, mix: &str) -> Self {
        Self {
            name: name.to_owned(),
            script: app.k6_script(),
            target_url: app.base_url(),
            env: vec![("MIX".into(), mix.into())],
            protocol: app.protocol,
        }
    }
}

impl Measure for K6Workload {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        Ok(self.k6_run(settings).execute()?.into())
    }
}

impl K6Workload {
    fn k6_run(&self, settings: &Settings) -> k6::Run {
        let mut env = vec![
            ("K6_PROFILE".to_owned(), "bench".to_owned()),
            ("LOAD_VUS".to_owned(), settings.vus.to_string()),
            (
                "LOAD_DURATION".to_owned(),
                format!("{}s", settings.duration.as_secs().max(1)),
            ),
            ("TARGET_URL".to_owned(), self.target_url.clone()),
            (
                "FAULT_TOKEN".to_owned(),
                process::LOCAL_ADMIN_TOKEN.to_owned(),
            ),
        ];
        env.extend(self.env.iter().cloned());
        let slug: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        k6::Run {
            script: self.script.clone(),
            env,
            summary: paths::target().join("bench").join(format!("{slug}.json")),
            protocol: self.protocol,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_app_mix_runs_the_apps_chart_script_against_it_with_its_protocol() {
        for name in ["grpc-microservice", "http-rest-api"] {
            let app = App::named(name).unwrap();
            let workload = K6Workload::app_mix(app, "row", "get");
            assert_eq!(workload.script, app.k6_script());
            assert!(workload.script.is_file(), "{}", workload.script.display());
            assert_eq!(workload.target_url, app.base_url());
            assert_eq!(workload.env, [("MIX".to_owned(), "get".to_owned())]);
            assert_eq!(workload.protocol, app.protocol);
        }
    }

    #[test]
    fn a_k6_workload_runs_the_bench_profile_with_the_settings() {
        let workload = K6Workload {
            name: "read mix".into(),
            script: "charts/http-rest-api/k6/main.js".into(),
            target_url: "http://127.0.0.1:8080".into(),
            env: vec![("MIX".into(), "read".into())],
            protocol: Protocol::Http,
        };
        let settings = Settings {
            runs: 1,
            duration: Duration::from_secs(20),
            vus: 8,
            warmup: Duration::ZERO,
        };
        let run = workload.k6_run(&settings);
        let env: Vec<String> = run.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            env,
            [
                "K6_PROFILE=bench",
                "LOAD_VUS=8",
                "LOAD_DURATION=20s",
                "TARGET_URL=http://127.0.0.1:8080",
                "FAULT_TOKEN=local-admin-token",
                "MIX=read"
            ]
        );
        assert!(
            run.summary.ends_with("bench/read-mix.json"),
            "{}",
            run.summary.display()
        );
    }
}
