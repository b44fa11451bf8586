//! Layered configuration: the app's built-in defaults, then an optional file, then
//! `APP__SECTION__KEY` environment variables. Unknown keys and bad values stop
//! start-up with a message naming the key and where it came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Environment variables that configure an app start with this prefix and use `__`
/// between sections: `APP__SERVER__PORT=9090`.
pub const ENV_PREFIX: &str = "APP";
/// Separator between the prefix, sections and keys of an environment variable.
pub const ENV_SEPARATOR: &str = "__";
/// Names an optional YAML or TOML file layered over the defaults.
pub const FILE_ENV: &str = "APP_CONFIG_FILE";

/// Why configuration could not be loaded. Each message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key that no settings struct knows: almost always a typo.
    #[error(
        "unknown configuration key `{key}` (set as environment variable `{env}` or in the config file); check its spelling"
    )]
    UnknownKey {
        /// Dotted path of the key, e.g. `server.prot`.
        key: String,
        /// The environment variable that would set it, e.g. `APP__SERVER__PROT`.
        env: String,
    },
    /// A key with a value of the wrong type or out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The file named by `APP_CONFIG_FILE` is missing or unreadable.
    #[error("cannot read configuration file `{path}`: {message}")]
    File {
        /// The file's path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Loads settings from `defaults` (the app's built-in YAML), the file named by
/// `APP_CONFIG_FILE` if set, and the process environment.
pub fn load<T: DeserializeOwned>(defaults: &str) -> Result<T, ConfigError> {
    let file = std::env::var_os(FILE_ENV).map(PathBuf::from);
    load_from(defaults, file.as_deref(), std::env::vars())
}

/// Loads settings like [`load`] and checks their ranges ([`Validate`]), or stops the
/// process: what every app's `main` starts with. The message names the bad key; the
/// exit code is 2 (a usage error).
pub fn load_or_exit<T: DeserializeOwned + Validate>(app: &str, defaults: &str) -> T {
    load(defaults)
        .and_then(|settings: T| Check::run(&settings).map(|()| settings))
        .unwrap_or_else(|err| {
            eprintln!("{app}: configuration error: {err}");
            tracing::error!(error = %err, "configuration error; not starting");
            std::process::exit(2)
        })
}

/// Like [`load`], with the file and environment given explicitly (for tests).
pub fn load_from<T: DeserializeOwned>(
    defaults: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let env: HashMap<String, String> = env
        .into_iter()
        .filter(|(key, _)| key.starts_with(&format!("{ENV_PREFIX}{ENV_SEPARATOR}")))
        .collect();
    let mut builder = Config::builder().add_source(File::from_str(defaults, FileFormat::Yaml));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::File {
                path: path.to_owned(),
                message: "no such file".into(),
            });
        }
        builder = builder.add_source(File::from(path).required(true));
    }
    let merged = builder
        .add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator(ENV_SEPARATOR)
                .separator(ENV_SEPARATOR)
                .try_parsing(true)
                .source(Some(env)),
        )
        .build()
        .map_err(|err| match (err, file) {
            (config::ConfigError::FileParse { cause, .. }, Some(path)) => ConfigError::File {
                path: path.to_owned(),
                message: cause.to_string(),
            },
            (err, _) => ConfigError::Invalid(err.to_string()),
        })?;

    let mut unknown = Vec::new();
    let settings = serde_ignored::deserialize(merged, |path| unknown.push(path.to_string()))
        .map_err(|err: config::ConfigError| ConfigError::Invalid(err.to_string()))?;
    if let Some(key) = unknown.into_iter().next() {
        return Err(ConfigError::UnknownKey {
            env: env_name(&key),
            key,
        });
    }
    Ok(settings)
}

/// The environment variable that sets the dotted `key`: `server.port` → `APP__SERVER__PORT`.
pub fn env_name(key: &str) -> String {
    std::iter::once(ENV_PREFIX.to_owned())
        .chain(key.split('.').map(str::to_uppercase))
        .collect::<Vec<_>>()
        .join(ENV_SEPARATOR)
}

/// Where an app listens and how long it drains on shutdown (`server.*`).
///
/// Settings structs don't use `deny_unknown_fields`: [`load`] finds unknown keys
/// itself and reports them with their full dotted path, which serde cannot.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Address to bind, e.g. `0.0.0.0` in a container, `127.0.0.1` locally.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// Longest time in-flight requests get to finish after SIGTERM.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    /// Largest request body accepted, counted while it streams in (413 beyond).
    pub max_body_bytes: u64,
}

impl Validate for ServerSettings {
    fn validate(&self, check: &mut Check) {
        check.duration(
            "server.drain_timeout",
            self.drain_timeout,
            Duration::ZERO,
            Duration::from_secs(3600),
        );
        check.range("server.max_body_bytes", self.max_body_bytes, 1024, 1 << 30);
    }
}

/// Settings that know their valid ranges: every duration, rate and size of an app is
/// checked at start-up, so that a value that would panic or silently stop work later
/// (a zero interval, a rate of 0 requests per second) stops the app at once, naming
/// its key (exit code 2).
pub trait Validate {
    /// Adds a problem to `check` for each value out of its range.
    fn validate(&self, check: &mut Check);
}

/// The range checks of one settings tree; [`Check::finish`] reports every problem.
#[derive(Debug, Default)]
pub struct Check {
    problems: Vec<String>,
}

impl Check {
    /// Runs `settings`' checks.
    pub fn run(settings: &impl Validate) -> Result<(), ConfigError> {
        let mut check = Self::default();
        settings.validate(&mut check);
        check.finish()
    }

    /// `key` must be a duration from `min` to `max`.
    pub fn duration(&mut self, key: &str, value: Duration, min: Duration, max: Duration) {
        if value < min || value > max {
            self.fail(
                key,
                format!(
                    "{} is not from {} to {}",
                    humantime::format_duration(value),
                    humantime::format_duration(min),
                    humantime::format_duration(max)
                ),
            );
        }
    }

    /// `key` must be from `min` to `max`.
    pub fn range<T: PartialOrd + std::fmt::Display>(
        &mut self,
        key: &str,
        value: T,
        min: T,
        max: T,
    ) {
        if !(value >= min && value <= max) {
            self.fail(key, format!("{value} is not from {min} to {max}"));
        }
    }

    /// `key` must be a share from 0.0 to 1.0.
    pub fn share(&mut self, key: &str, value: f64) {
        if !(0.0..=1.0).contains(&value) {
            self.fail(key, format!("{value} is not from 0.0 to 1.0"));
        }
    }

    /// `key` must not be empty.
    pub fn not_empty(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(key, "must not be empty".into());
        }
    }

    /// `key` is wrong because `reason`.
    pub fn fail(&mut self, key: &str, reason: String) {
        self.problems.push(format!(
            "`{key}` (environment variable `{}`): {reason}",
            env_name(key)
        ));
    }

    /// Every problem found, or none.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(self.problems.join("; ")))
        }
    }
}

impl ServerSettings {
    /// `host:port`, ready for binding.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Settings {
        server: ServerSettings,
        greeting: String,
    }

    const DEFAULTS: &str = "
server:
  host: 127.0.0.1
  port: 8080
  drain_timeout: 10s
  max_body_bytes: 65536
greeting: hello
";

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load_with(file: Option<&Path>, pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load_from(DEFAULTS, file, env(pairs))
    }

    #[test]
    fn defaults_alone_load() {
        let settings = load_with(None, &[]).unwrap();
        assert_eq!(settings.server.address(), "127.0.0.1:8080");
        assert_eq!(settings.server.drain_timeout, Duration::from_secs(10));
        assert_eq!(settings.greeting, "hello");
    }

    #[test]
    fn environment_overrides_defaults() {
        let settings = load_with(
            None,
            &[
                ("APP__SERVER__PORT", "9090"),
                ("APP__SERVER__DRAIN_TIMEOUT", "250ms"),
                ("APP__GREETING", "hi"),
                ("UNRELATED", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(settings.server.port, 9090);
        assert_eq!(settings.server.drain_timeout, Duration::from_millis(250));
        assert_eq!(settings.greeting, "hi");
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        let dir = std::env::temp_dir().join(format!("service-kit-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.yaml");
        std::fs::write(&path, "server:\n  port: 7000\ngreeting: from-file\n").unwrap();

        let from_file = load_with(Some(&path), &[]).unwrap();
        assert_eq!(from_file.server.port, 7000);
        assert_eq!(from_file.greeting, "from-file");

        let from_env = load_with(Some(&path), &[("APP__SERVER__PORT", "7001")]).unwrap();
        assert_eq!(from_env.server.port, 7001);
        assert_eq!(from_env.greeting, "from-file");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_mistyped_environment_key_stops_startup_naming_the_key() {
        let err = load_with(None, &[("APP__SERVER__PROT", "9090")]).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`server.prot`"), "{message}");
        assert!(message.contains("APP__SERVER__PROT"), "{message}");
    }

    #[test]
    fn a_mistyped_file_key_stops_startup_naming_the_key() {
        let dir = std::env::temp_dir().join(format!("service-kit-typo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.yaml");
        std::fs::write(&path, "greting: typo\n").unwrap();
        let message = load_with(Some(&path), &[]).unwrap_err().to_string();
        std::fs::remove_dir_all(dir).unwrap();
        assert!(message.contains("`greting`"), "{message}");
    }

    #[test]
    fn a_bad_value_stops_startup_naming_the_key() {
        let message = load_with(None, &[("APP__SERVER__PORT", "eighty")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("server.port"), "{message}");
    }

    #[test]
    fn an_out_of_range_value_stops_startup_naming_the_key() {
        let message = load_with(None, &[("APP__SERVER__PORT", "70000")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("server.port"), "{message}");
    }

    #[test]
    fn a_bad_duration_stops_startup_naming_the_key() {
        let message = load_with(None, &[("APP__SERVER__DRAIN_TIMEOUT", "soon")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("drain_timeout"), "{message}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let message = load_with(Some(Path::new("/nonexistent/app.yaml")), &[])
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent/app.yaml"), "{message}");
    }

    #[test]
    fn out_of_range_durations_and_sizes_are_all_named() {
        let mut settings = load_with(None, &[("APP__SERVER__DRAIN_TIMEOUT", "2h")])
            .unwrap()
            .server;
        settings.max_body_bytes = 0;
        let message = Check::run(&settings).unwrap_err().to_string();
        assert!(message.contains("`server.drain_timeout`"), "{message}");
        assert!(message.contains("APP__SERVER__MAX_BODY_BYTES"), "{message}");
        settings.drain_timeout = Duration::from_secs(1);
        settings.max_body_bytes = 4096;
        Check::run(&settings).unwrap();
        let mut check = Check::default();
        check.share("faults.errors.rate", f64::NAN);
        check.range("x.rate", 0.0, f64::MIN_POSITIVE, 1e6);
        check.not_empty("kafka.client_id", " ");
        assert_eq!(check.problems.len(), 3);
    }

    #[test]
    fn env_names_are_derived_from_keys() {
        assert_eq!(
            env_name("faults.latency.delay"),
            "APP__FAULTS__LATENCY__DELAY"
        );
    }
}
