//! Debian's Prometheus (`cargo xtask tools` installs it with apt), as xtask runs
//! it: one command line for the demo's server and the image check's.

use std::path::Path;
use std::process::Command;

use crate::cmd;

/// Where Debian's package puts it.
pub const BINARY: &str = "/usr/bin/prometheus";

/// Prometheus with `config`, its data in `data`, on `127.0.0.1:port`, logging
/// warnings and worse.
pub fn command(config: &Path, data: &Path, port: u16) -> Command {
    let mut command = cmd::new(BINARY);
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn");
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_config_the_data_and_a_loopback_port() {
        let command = command(Path::new("/c/p.yml"), Path::new("/d"), 9099);
        assert_eq!(command.get_program(), BINARY);
        let args: Vec<_> = command.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "--config.file=/c/p.yml",
                "--storage.tsdb.path=/d",
                "--web.listen-address=127.0.0.1:9099",
                "--log.level=warn",
            ]
        );
    }
}
