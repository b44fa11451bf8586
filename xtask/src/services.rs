//! Real backing services on loopback.

pub fn run(action: &str) -> anyhow::Result<()> {
    anyhow::bail!("not yet: {action}")
}
