//! The values of run options, checked once: shares, relative gaps,
//! seconds, counts. The command line (clap's value parsers in `cli`) and
//! the scenario files (`study`) call the same check, so a value refused
//! on one side is refused on the other, for the same reason.
//!
//! Invariant: every check names what a valid value is (`a share between 0
//! and 1`); the caller names the option and the value it was given.

/// What a valid value of each kind is, as written in messages.
pub const SHARE: &str = "a share between 0 and 1";
pub const GAP: &str = "a relative gap >= 0 (such as 0.001 for 0.1 %)";
pub const SECONDS: &str = "a number of seconds >= 0";
pub const THREADS: &str = "a number of threads >= 1";
pub const SLACK: &str = "a relative slack >= 0 (such as 0.01 for 1 % of the optimum)";

/// Fewest permutations sampled for Shapley values: a standard error needs two.
pub const MIN_SAMPLES: usize = 2;
pub const SAMPLES: &str = "a number of permutations >= 2: a standard error needs at least two samples";

/// Fewest points on a Pareto front: its two ends, the lexicographic optima.
pub const MIN_POINTS: usize = 2;
pub const POINTS: &str = "a number of points >= 2: a front has at least its two ends, the lexicographic optima";

/// A check: `Some(value)` when valid, with the phrase naming a valid value.
pub struct Check<T> {
    pub valid: fn(T) -> bool,
    pub what: &'static str,
}

pub const SHARE_CHECK: Check<f64> = Check {
    valid: |v| (0.0..=1.0).contains(&v),
    what: SHARE,
};
pub const GAP_CHECK: Check<f64> = Check {
    valid: |v| v.is_finite() && v >= 0.0,
    what: GAP,
};
pub const SECONDS_CHECK: Check<f64> = Check {
    valid: |v| v.is_finite() && v >= 0.0,
    what: SECONDS,
};
pub const SLACK_CHECK: Check<f64> = Check {
    valid: |v| v.is_finite() && v >= 0.0,
    what: SLACK,
};
pub const THREADS_CHECK: Check<usize> = Check {
    valid: |v| v >= 1,
    what: THREADS,
};
pub const SAMPLES_CHECK: Check<usize> = Check {
    valid: |v| v >= MIN_SAMPLES,
    what: SAMPLES,
};
pub const POINTS_CHECK: Check<usize> = Check {
    valid: |v| v >= MIN_POINTS,
    what: POINTS,
};

impl<T: Copy + std::str::FromStr> Check<T> {
    /// For a command-line value: `"-1" is not a share between 0 and 1`.
    pub fn parse(&self, text: &str) -> Result<T, String> {
        match text.parse::<T>() {
            Ok(value) if (self.valid)(value) => Ok(value),
            _ => Err(format!("{text:?} is not {}", self.what)),
        }
    }
}

impl<T: Copy + std::fmt::Display> Check<T> {
    /// For a value of a file: `supplier_share must be a share between 0 and 1, got 2`.
    pub fn value(&self, name: &str, value: T) -> Result<T, String> {
        if (self.valid)(value) {
            Ok(value)
        } else {
            Err(format!("{name} must be {}, got {value}", self.what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_and_files_refuse_the_same_values() {
        for (text, value) in [("-0.1", -0.1), ("1.5", 1.5), ("NaN", f64::NAN)] {
            assert!(SHARE_CHECK.parse(text).is_err());
            assert!(SHARE_CHECK.value("supplier_share", value).is_err());
        }
        assert_eq!(SHARE_CHECK.parse("0.3"), Ok(0.3));
        assert_eq!(SHARE_CHECK.value("supplier_share", 1.0), Ok(1.0));
        assert_eq!(
            SECONDS_CHECK.value("time_limit", -1.0),
            Err("time_limit must be a number of seconds >= 0, got -1".to_string())
        );
        assert_eq!(GAP_CHECK.parse("x"), Err(format!("\"x\" is not {GAP}")));
        assert!(GAP_CHECK.parse("inf").is_err() && SECONDS_CHECK.parse("inf").is_err());
        assert_eq!(SAMPLES_CHECK.parse("1"), Err(format!("\"1\" is not {SAMPLES}")));
        assert_eq!(POINTS_CHECK.parse("2"), Ok(2));
        assert!(THREADS_CHECK.parse("0").is_err());
        for text in ["-0.01", "NaN", "inf", "x"] {
            assert_eq!(SLACK_CHECK.parse(text), Err(format!("{text:?} is not {SLACK}")));
        }
        assert_eq!(SLACK_CHECK.parse("0"), Ok(0.0));
        assert!(SLACK_CHECK.value("slack", f64::NAN).is_err());
    }
}
