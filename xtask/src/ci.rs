//! `cargo xtask ci`: the one gate. Installs tools, starts the real services, then
//! runs every check, continuing past failures so one run shows them all. The last
//! line reads `N passed, M failed`: every test `cargo test` ran, plus each other
//! step counted once.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{charts, cluster, cmd, contracts, images, k6, lint, services, tools};

/// Runs the gate; fails when any step failed.
pub fn run() -> Result<()> {
    let mut gate = Gate::default();
    // Without tools and services nothing after them means anything: stop early.
    gate.step("tools", tools::install);
    gate.step("services up", services::up);
    if gate.failed > 0 {
        return gate.finish();
    }
    gate.step("cargo fmt", || {
        cmd::run(cargo().args(["fmt", "--all", "--", "--check"]))
    });
    gate.step("cargo clippy", || {
        cmd::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    });
    gate.tests("cargo test", || {
        // Every test binary runs even after one fails: one run shows them all.
        cargo_test(cargo().args(["test", "--workspace", "--locked", "--no-fail-fast"]))
    });
    gate.step("charts", charts::check);
    gate.tests("charts in a cluster", || {
        cluster::gate().map(|tally| Counts {
            passed: tally.passed,
            failed: tally.failed,
        })
    });
    gate.step("k6", k6::check);
    gate.step("contracts", contracts::check);
    gate.step("workflows, Dockerfile", lint::check);
    // Built from the Dockerfile and run as the charts run them, where podman works.
    match images::decision() {
        Ok(images::Decision::Run) => gate.step("images", images::gate),
        Ok(images::Decision::Skip(why)) => gate.skip("images", &why),
        Err(err) => gate.step("images", || Err(err)),
    }
    gate.finish()
}

/// `cargo`, the same one that runs xtask.
pub fn cargo() -> Command {
    cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[derive(Debug, Default)]
struct Gate {
    passed: u64,
    failed: u64,
    rows: Vec<(String, &'static str, Duration, String)>,
}

impl Gate {
    /// A step that counts once.
    fn step(&mut self, name: &str, f: impl FnOnce() -> Result<()>) {
        self.tests(name, || {
            f().map(|()| Counts {
                passed: 1,
                failed: 0,
            })
        });
    }

    /// A step that cannot run on this machine: shown in the table, not counted.
    fn skip(&mut self, name: &str, why: &str) {
        eprintln!("\n==> {name}: skipped ({why})");
        self.rows
            .push((name.to_owned(), "skip", Duration::ZERO, why.to_owned()));
    }

    /// A step that reports how many tests passed and failed.
    fn tests(&mut self, name: &str, f: impl FnOnce() -> Result<Counts>) {
        eprintln!("\n==> {name}");
        let started = Instant::now();
        let outcome = f();
        let elapsed = started.elapsed();
        let (verdict, note) = match outcome {
            Ok(counts) if counts.failed == 0 => {
                self.passed += counts.passed;
                ("ok", counts.describe())
            }
            Ok(counts) => {
                self.passed += counts.passed;
                self.failed += counts.failed;
                ("FAILED", counts.describe())
            }
            Err(err) => {
                eprintln!("{name}: {err:#}");
                self.failed += 1;
                (
                    "FAILED",
                    format!("{err:#}")
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                )
            }
        };
        eprintln!("<== {name}: {verdict} in {:.1}s", elapsed.as_secs_f64());
        self.rows.push((name.to_owned(), verdict, elapsed, note));
    }

    fn finish(self) -> Result<()> {
        eprintln!("\nstep                    result    time  note");
        for (name, verdict, elapsed, note) in &self.rows {
            eprintln!(
                "{name:<23} {verdict:<6} {:>6.1}s  {note}",
                elapsed.as_secs_f64()
            );
        }
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed > 0 {
            bail!("the gate failed");
        }
        Ok(())
    }
}

/// Tests counted from `cargo test`'s `test result:` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    passed: u64,
    failed: u64,
}

impl Counts {
    fn describe(self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    /// Adds the counts of one `test result: ok. 3 passed; 1 failed; ...` line.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, echoing its output, and counts the tests it ran.
fn cargo_test(command: &mut Command) -> Result<Counts> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo test")?;
    let stdout = child.stdout.take().context("cargo test has no stdout")?;
    let mut counts = Counts::default();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo test's output")?;
        println!("{line}");
        counts.add_line(&line);
    }
    let status = child.wait().context("cargo test did not finish")?;
    if !status.success() && counts.failed == 0 {
        // It failed before running tests (a build error): that is one failure.
        counts.failed = 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_result_lines_are_summed() {
        let mut counts = Counts::default();
        for line in [
            "running 3 tests",
            "test result: ok. 45 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.34s",
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test something ... ok",
        ] {
            counts.add_line(line);
        }
        assert_eq!(
            counts,
            Counts {
                passed: 47,
                failed: 1
            }
        );
    }

    #[test]
    fn a_failing_step_fails_the_gate_and_is_counted() {
        let mut gate = Gate::default();
        gate.step("good", || Ok(()));
        gate.step("bad", || bail!("broken"));
        gate.tests("tests", || {
            Ok(Counts {
                passed: 5,
                failed: 2,
            })
        });
        assert_eq!((gate.passed, gate.failed), (6, 3));
        assert!(gate.finish().is_err());
    }

    #[test]
    fn a_skipped_step_is_listed_but_neither_passes_nor_fails() {
        let mut gate = Gate::default();
        gate.step("good", || Ok(()));
        gate.skip("images", "`podman` is not installed");
        assert_eq!((gate.passed, gate.failed), (1, 0));
        assert_eq!(gate.rows[1].1, "skip");
        assert!(gate.finish().is_ok());
    }
}
