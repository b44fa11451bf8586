//! sql-application's additive ceiling: `1 / (1/hello + 1/join)` from rows measured
//! earlier in the same round (see sql_application.rs).

use std::cell::Cell;
use std::rc::Rc;

use anyhow::{Result, bail};

use super::{Measure, Sample, Settings};

/// A row whose latest rate the ceiling reads.
pub struct Recorded {
    /// The row.
    pub inner: Box<dyn Measure>,
    /// Its rate in the latest round.
    pub last: Rc<Cell<Option<f64>>>,
}

impl Measure for Recorded {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let sample = self.inner.measure(settings)?;
        self.last.set(Some(sample.rate));
        Ok(sample)
    }
}

/// What the app could do at best if it added nothing to its two unavoidable costs:
/// an HTTP exchange (hello-hyper under wrk) and its JOIN (pgbench at the same
/// clients), paid one after the other on the same cores: `1 / (1/hello + 1/join)`,
/// from the rows measured just before it in the same round. No latency of its own.
pub struct AdditiveCeiling {
    /// hello-hyper's rate this round.
    pub hello: Rc<Cell<Option<f64>>>,
    /// The JOIN's rate this round.
    pub join: Rc<Cell<Option<f64>>>,
}

impl Measure for AdditiveCeiling {
    fn name(&self) -> String {
        "additive ceiling 1 / (1/hello-hyper + 1/JOIN), this round".into()
    }

    fn measure(&self, _: &Settings) -> Result<Sample> {
        let (Some(hello), Some(join)) = (self.hello.get(), self.join.get()) else {
            bail!("the ceiling needs the hello-hyper and JOIN rows of the same round first");
        };
        Ok(Sample {
            rate: additive_ceiling(hello, join),
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            server_cpu_us: None,
        })
    }
}

/// `1 / (1/a + 1/b)`: the rate of doing both, one after the other.
fn additive_ceiling(a: f64, b: f64) -> f64 {
    if a <= 0.0 || b <= 0.0 {
        return 0.0;
    }
    1.0 / (1.0 / a + 1.0 / b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_adds_the_two_costs_of_a_request() {
        // 50k hello/s (20 µs) and 50k JOIN/s (20 µs): 40 µs a request, 25k/s.
        assert!((additive_ceiling(50_000.0, 50_000.0) - 25_000.0).abs() < 1e-6);
        assert_eq!(additive_ceiling(0.0, 50_000.0), 0.0);
        let hello = Rc::new(Cell::new(None));
        let join = Rc::new(Cell::new(Some(30_000.0)));
        let ceiling = AdditiveCeiling {
            hello: Rc::clone(&hello),
            join,
        };
        let settings = Settings::default();
        assert!(ceiling.measure(&settings).is_err(), "no hello row yet");
        hello.set(Some(60_000.0));
        assert!((ceiling.measure(&settings).unwrap().rate - 20_000.0).abs() < 1e-6);
    }
}
