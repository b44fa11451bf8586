//! The Apache Kafka broker (KRaft) as jars from Maven Central: no tarball, no
//! scripts, just a classpath that `cargo xtask services` runs with `java`.
//!
//! A generated pom lists the broker, the command-line tools (storage formatting,
//! `ProducerPerformance` for benchmarks) and the logging binding; Maven resolves
//! and copies the whole runtime classpath into `libs/`.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Install, Row, stamp};
use crate::{cmd, paths};

/// The pinned broker version (the newest 4.1 patch release).
pub const VERSION: &str = "4.1.2";
/// log4j2's binding for slf4j 1.7, which Kafka 4.1 logs through; the same log4j
/// release as the `log4j-core` the broker pulls in, as Kafka's distribution ships.
const LOG4J_VERSION: &str = "2.24.3";
/// Pinned so that resolution never asks for the newest plugin release.
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/// Where this Kafka version lives in the tool cache.
pub fn home() -> PathBuf {
    paths::cache().join(format!("kafka-{VERSION}"))
}

/// The broker's classpath directory (`java -cp '<libs>/*'`).
pub fn libs() -> PathBuf {
    home().join("libs")
}

/// Resolves the jars into [`libs`] unless the stamp says this pom already did.
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let pom = render_pom();
    let recipe = format!("kafka {VERSION} pom {}", stamp::fingerprint(&pom));
    let broker_jar = libs().join(format!("kafka_2.13-{VERSION}.jar"));
    if !(broker_jar.is_file() && install.stamps.is_current("kafka", &recipe)) {
        resolve(&pom)?;
        if !broker_jar.is_file() {
            bail!("Maven finished but {} is missing", broker_jar.display());
        }
        install.stamps.record("kafka", &recipe)?;
    }
    install
        .rows
        .push(Row::new("kafka (KRaft)", VERSION, libs()));
    Ok(())
}

fn resolve(pom: &str) -> Result<()> {
    println!("resolving Kafka {VERSION} jars (maven)");
    let home = home();
    fs::create_dir_all(&home).with_context(|| format!("cannot create {}", home.display()))?;
    let pom_path = home.join("pom.xml");
    fs::write(&pom_path, pom).with_context(|| format!("cannot write {}", pom_path.display()))?;
    // Into a fresh directory, then swapped in: no stale jar from an older pin
    // stays on the classpath, and a failed run leaves the old set intact.
    let fresh = home.join("libs.partial");
    let _ = fs::remove_dir_all(&fresh);
    // Quiet and batch mode: Maven's progress is noise here; failures come back whole.
    cmd::output(
        cmd::new("mvn")
            .current_dir(&home)
            .args(["-B", "-q", "-Dstyle.color=never", "-f"])
            .arg(&pom_path)
            .arg(format!("{DEPENDENCY_PLUGIN}:copy-dependencies"))
            .arg(format!("-DoutputDirectory={}", fresh.display()))
            .arg("-DincludeScope=runtime"),
    )?;
    let _ = fs::remove_dir_all(libs());
    fs::rename(&fresh, libs())
        .with_context(|| format!("cannot move jars to {}", libs().display()))?;
    Ok(())
}

/// A pom whose only job is to name the broker's runtime classpath.
fn render_pom() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by `cargo xtask tools` (xtask/src/tools/kafka.rs): edits are overwritten. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.obi-examples</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>{VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pom_pins_broker_tools_and_logging() {
        let pom = render_pom();
        assert!(
            pom.contains("<artifactId>kafka_2.13</artifactId>\n      <version>4.1.2</version>")
        );
        assert!(
            pom.contains("<artifactId>kafka-tools</artifactId>\n      <version>4.1.2</version>")
        );
        assert!(pom.contains("<artifactId>log4j-slf4j-impl</artifactId>"));
        // Every dependency carries an exact version: no ranges, no LATEST.
        assert_eq!(
            pom.matches("<dependency>").count(),
            pom.matches("<version>").count() - 1
        );
    }
}
