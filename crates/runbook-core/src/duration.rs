//! Durations as runbooks write them: `15m`, `1h30m`, or a range `5-10m`.

use std::fmt;
use std::ops::Add;

use serde::{Deserialize, Serialize};

/// A duration or a range of durations, in minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub min_minutes: u64,
    pub max_minutes: u64,
}

impl Span {
    pub fn parse(text: &str) -> Result<Span, String> {
        let bad = || format!("`{text}` is not a duration; write it like `15m`, `1h30m` or `5-10m`");
        let t = text.trim();
        let (low, high) = match t.split_once(['-', '–']) {
            Some((low, high)) => (low.trim(), high.trim()),
            None => (t, t),
        };
        let max = minutes(high).ok_or_else(bad)?;
        // In `5-10m` the unit of the upper bound applies to the lower one too.
        let min = match low.parse::<u64>() {
            Ok(n) if low != high => {
                let unit = high.trim_start_matches(|c: char| c.is_ascii_digit());
                minutes(&format!("{n}{unit}")).ok_or_else(bad)?
            }
            _ => minutes(low).ok_or_else(bad)?,
        };
        if min > max {
            return Err(format!("`{text}`: the range runs backwards"));
        }
        Ok(Span {
            min_minutes: min,
            max_minutes: max,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.max_minutes == 0
    }
}

/// `1h30m` → 90; `None` for anything else.
fn minutes(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        let factor = match c {
            'm' => 1,
            'h' => 60,
            'd' => 60 * 24,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(factor)?)?;
        seen_unit = true;
    }
    (number.is_empty() && seen_unit).then_some(total)
}

impl Add for Span {
    type Output = Span;
    fn add(self, other: Span) -> Span {
        Span {
            min_minutes: self.min_minutes.saturating_add(other.min_minutes),
            max_minutes: self.max_minutes.saturating_add(other.max_minutes),
        }
    }
}

fn words(m: u64) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min_minutes == self.max_minutes {
            f.write_str(&words(self.max_minutes))
        } else if self.max_minutes < 60 {
            write!(f, "{}–{} min", self.min_minutes, self.max_minutes)
        } else {
            write!(
                f,
                "{} – {}",
                words(self.min_minutes),
                words(self.max_minutes)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_shows() {
        let s = |t| Span::parse(t).unwrap();
        assert_eq!(
            s("15m"),
            Span {
                min_minutes: 15,
                max_minutes: 15
            }
        );
        assert_eq!(s("5-10m").to_string(), "5–10 min");
        assert_eq!(s("1h30m").to_string(), "1 h 30 min");
        assert_eq!(s("30m-2h").to_string(), "30 min – 2 h");
        assert_eq!((s("5-10m") + s("15m")).to_string(), "20–25 min");
        assert!(Span::parse("15").is_err());
        assert!(Span::parse("10-5m").is_err());
        assert!(Span::parse("fast").is_err());
    }
}
