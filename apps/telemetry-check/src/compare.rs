//! Threshold comparisons of metric expectations: `> 0`, `>= 10`, `< 0.05`, `== 0`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

/// An operator and a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub op: Op,
    pub threshold: f64,
}

impl Comparison {
    /// Whether `value` satisfies the comparison; NaN never does.
    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            Op::Gt => value > self.threshold,
            Op::Ge => value >= self.threshold,
            Op::Lt => value < self.threshold,
            Op::Le => value <= self.threshold,
            Op::Eq => {
                (value - self.threshold).abs() <= f64::EPSILON * self.threshold.abs().max(1.0)
            }
        }
    }

    /// Whether the comparison asks for a value to be at least something (so no
    /// data at all means failure).
    pub fn is_lower_bound(&self) -> bool {
        matches!(self.op, Op::Gt | Op::Ge)
    }
}

impl FromStr for Comparison {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ]
        .into_iter()
        .find_map(|(symbol, op)| text.strip_prefix(symbol).map(|rest| (op, rest)))
        .ok_or_else(|| {
            format!("{text:?} must start with one of > >= < <= == followed by a number")
        })?;
        let threshold: f64 = rest
            .trim()
            .parse()
            .map_err(|_| format!("{text:?}: {:?} is not a number", rest.trim()))?;
        if !threshold.is_finite() {
            return Err(format!("{text:?}: the threshold must be finite"));
        }
        Ok(Comparison { op, threshold })
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self.op {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
        };
        write!(f, "{symbol} {}", self.threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str) -> Comparison {
        text.parse().unwrap()
    }

    #[test]
    fn every_operator_parses_and_holds_as_written() {
        assert!(c("> 0").holds(0.1) && !c("> 0").holds(0.0));
        assert!(c(">= 10").holds(10.0) && !c(">=10").holds(9.9));
        assert!(c("< 0.05").holds(0.01) && !c("<0.05").holds(0.05));
        assert!(c("<= 1").holds(1.0) && !c("<= 1").holds(1.5));
        assert!(c("== 0").holds(0.0) && !c("== 0").holds(1e-3));
    }

    #[test]
    fn nan_never_holds() {
        for text in ["> 0", ">= 0", "< 1", "<= 1", "== 0"] {
            assert!(!c(text).holds(f64::NAN), "{text}");
        }
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        assert!(
            "=> 0"
                .parse::<Comparison>()
                .unwrap_err()
                .contains("must start")
        );
        assert!(
            "> lots"
                .parse::<Comparison>()
                .unwrap_err()
                .contains("not a number")
        );
        assert!("> inf".parse::<Comparison>().is_err());
    }

    #[test]
    fn it_displays_as_written() {
        assert_eq!(c(">=10").to_string(), ">= 10");
        assert_eq!(c("< 0.05").to_string(), "< 0.05");
    }
}
