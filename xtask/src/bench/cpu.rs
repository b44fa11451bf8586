//! Who used the machine's CPU during a measurement: processes by pid, this process's
//! waited-for children (the load generators), and the whole machine, from /proc.
//! What saturates first shows here: an app near 100 % of a core, or k6 taking the
//! CPU the apps need.

use anyhow::{Context, Result};

/// CPU seconds used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Busy seconds of the whole machine (all cores; not idle, not iowait).
    pub machine_busy: f64,
    /// Seconds of the whole machine (busy and idle, all cores).
    pub machine_total: f64,
    /// Seconds of this process's children that have exited and been waited for.
    pub children: f64,
}

impl Usage {
    /// Now.
    pub fn now() -> Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let (busy, total) = parse_machine(&stat).context("no cpu line in /proc/stat")?;
        let own = std::fs::read_to_string("/proc/self/stat")?;
        let fields = stat_fields(&own).context("unexpected /proc/self/stat")?;
        let tick = ticks();
        Ok(Self {
            machine_busy: busy / tick,
            machine_total: total / tick,
            // cutime and cstime: the 16th and 17th fields.
            children: (fields[13] + fields[14]) / tick,
        })
    }
}

fn ticks() -> f64 {
    procfs::ticks_per_second() as f64
}

/// CPU seconds (user + system) process `pid` used so far; 0 once it is gone.
pub fn process_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|text| stat_fields(&text))
        .map_or(0.0, |fields| (fields[11] + fields[12]) / ticks())
}

/// CPU seconds of every process whose command name is one of `names` (PostgreSQL's
/// backends, redis-server, Kafka's java), summed.
pub fn named_seconds(names: &[&str]) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| names.contains(&comm.trim()))
        })
        .map(process_seconds)
        .sum()
}

/// The numeric fields of a `/proc/<pid>/stat` line after the command name, from
/// the state on (field 3 is index 0 here, as a number it is 0).
fn stat_fields(text: &str) -> Option<Vec<f64>> {
    let rest = &text[text.rfind(')')? + 1..];
    Some(
        rest.split_whitespace()
            .map(|field| field.parse::<f64>().unwrap_or(0.0))
            .collect(),
    )
    .filter(|fields: &Vec<f64>| fields.len() > 15)
}

/// (busy, total) ticks of the `cpu` line.
fn parse_machine(stat: &str) -> Option<(f64, f64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = values.iter().take(8).sum();
    // idle and iowait are the 4th and 5th.
    let idle = values.get(3)? + values.get(4)?;
    Some((total - idle, total))
}

/// The share of the machine (0..=100 % of all cores) `seconds` of CPU were over an
/// interval in which the machine had `machine_seconds` (all cores).
pub fn share(seconds: f64, machine_seconds: f64) -> f64 {
    if machine_seconds > 0.0 {
        100.0 * seconds / machine_seconds
    } else {
        f64::NAN
    }
}

/// Command names of the backing services' processes.
const POSTGRES: &[&str] = &["postgres"];
const REDIS: &[&str] = &["redis-server"];
const KAFKA: &[&str] = &["java"];

/// Where the CPU went during a phase, in % of the machine (all cores).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shares {
    pub apps: f64,
    pub clients: f64,
    pub postgres: f64,
    pub redis: f64,
    pub kafka: f64,
    pub busy: f64,
}

/// CPU counters at the start of a phase.
pub struct Watch {
    usage: Usage,
    apps: f64,
    postgres: f64,
    redis: f64,
    kafka: f64,
}

impl Watch {
    pub fn start(pids: &[u32]) -> Result<Self> {
        Ok(Self {
            usage: Usage::now()?,
            apps: pids.iter().map(|pid| process_seconds(*pid)).sum(),
            postgres: named_seconds(POSTGRES),
            redis: named_seconds(REDIS),
            kafka: named_seconds(KAFKA),
        })
    }

    /// The shares since the start; the load generators are this process's children,
    /// waited for by now.
    pub fn stop(self, pids: &[u32]) -> Result<Shares> {
        let now = Usage::now()?;
        let machine = now.machine_total - self.usage.machine_total;
        let apps: f64 = pids.iter().map(|pid| process_seconds(*pid)).sum();
        Ok(Shares {
            apps: share(apps - self.apps, machine),
            clients: share(now.children - self.usage.children, machine),
            postgres: share(named_seconds(POSTGRES) - self.postgres, machine),
            redis: share(named_seconds(REDIS) - self.redis, machine),
            kafka: share(named_seconds(KAFKA) - self.kafka, machine),
            busy: share(now.machine_busy - self.usage.machine_busy, machine),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_and_process_times_are_read() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
        assert_eq!(parse_machine(stat), Some((150.0, 1000.0)));
        // A command name with spaces and parentheses cannot shift the fields.
        let own = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 11 13 20 0 1 0 5 0 0";
        let fields = stat_fields(own).unwrap();
        assert_eq!(
            (fields[11], fields[12], fields[13], fields[14]),
            (7.0, 3.0, 11.0, 13.0)
        );
        assert!(process_seconds(std::process::id()) >= 0.0);
        assert_eq!(process_seconds(u32::MAX), 0.0);
        let usage = Usage::now().unwrap();
        assert!(usage.machine_total >= usage.machine_busy && usage.machine_busy > 0.0);
        assert_eq!(share(1.0, 4.0), 25.0);
    }
}
