//! The demo's load profiles (`--profile constant|spike|stress`) and the k6
//! environment each one becomes; the shapes themselves live in the k6 library.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};

/// How the steady load of `cargo xtask demo` is shaped, per app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadProfile {
    /// The library's `constant` profile (20 iterations/s per app), until Ctrl-C.
    #[default]
    Constant,
    /// The library's `spike` profile (5 → 150 → 5 iterations/s, 5 min), repeated.
    Spike,
    /// The library's `stress` profile (ramps to 300 iterations/s over 15 min), repeated.
    Stress,
}

/// How long the readiness smoke runs, all apps at once.
pub const SMOKE_DURATION: &str = "10s";

/// A constant run's length: "until Ctrl-C" for any demo (k6 needs a finite value;
/// the runner restarts a run that ends anyway).
const CONSTANT_DURATION: &str = "24h";

impl LoadProfile {
    /// Every profile, in the order of the help text.
    pub const ALL: [Self; 3] = [Self::Constant, Self::Spike, Self::Stress];

    /// The k6 library's profile name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Spike => "spike",
            Self::Stress => "stress",
        }
    }

    /// One line for the terminal.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Constant => {
                "a gentle constant 20 iterations/s per app (an iteration is one or a few requests)"
            }
            Self::Spike => "5 iterations/s per app with a spike to 150 for 1.5 min, every 5 min",
            Self::Stress => "a ramp to 300 iterations/s per app over 15 min, repeated",
        }
    }

    /// The `-e` variables of the app's k6 script (`TARGET_URL` comes on top).
    pub fn k6_env(self) -> Vec<(String, String)> {
        let mut env = vec![("K6_PROFILE".to_owned(), self.name().to_owned())];
        if self == Self::Constant {
            env.push(("LOAD_DURATION".to_owned(), CONSTANT_DURATION.to_owned()));
        }
        env
    }

    /// The `-e` variables of the readiness smoke: the library's smoke, shortened.
    pub fn smoke_env() -> Vec<(String, String)> {
        vec![
            ("K6_PROFILE".to_owned(), "smoke".to_owned()),
            ("LOAD_DURATION".to_owned(), SMOKE_DURATION.to_owned()),
        ]
    }
}

impl FromStr for LoadProfile {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        match Self::ALL.into_iter().find(|profile| profile.name() == text) {
            Some(profile) => Ok(profile),
            None => bail!("unknown profile `{text}`: expected constant, spike or stress"),
        }
    }
}

impl fmt::Display for LoadProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(profile: LoadProfile) -> Vec<String> {
        profile
            .k6_env()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    #[test]
    fn the_default_is_a_constant_rate_that_lasts_until_interrupted() {
        assert_eq!(LoadProfile::default(), LoadProfile::Constant);
        assert_eq!(
            env(LoadProfile::Constant),
            ["K6_PROFILE=constant", "LOAD_DURATION=24h"]
        );
    }

    #[test]
    fn spike_and_stress_keep_the_librarys_stages() {
        // LOAD_DURATION would be ignored by stage-shaped profiles; not sending it
        // keeps the command line honest.
        assert_eq!(env(LoadProfile::Spike), ["K6_PROFILE=spike"]);
        assert_eq!(env(LoadProfile::Stress), ["K6_PROFILE=stress"]);
    }

    #[test]
    fn every_profile_is_one_the_k6_library_defines() {
        let library = std::fs::read_to_string(
            crate::paths::root().join("charts/obi-examples-lib/k6/obi-examples.js"),
        )
        .unwrap();
        for profile in LoadProfile::ALL {
            assert!(
                library.contains(&format!("  {}: {{", profile.name())),
                "the k6 library has no profile `{profile}`"
            );
        }
    }

    #[test]
    fn profiles_parse_by_name_and_unknown_names_list_the_choices() {
        assert_eq!("spike".parse::<LoadProfile>().unwrap(), LoadProfile::Spike);
        let message = "soak".parse::<LoadProfile>().unwrap_err().to_string();
        assert!(message.contains("constant, spike or stress"), "{message}");
    }
}
