//! The offline chart gate: lint, render, validate, and drift checks.

pub fn check() -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}

pub fn generate() -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
