//! Waiting numbers as the lobby shows them: `7`, or `IM-007` with a department's prefix.

use std::fmt;

/// A department's number prefix: 1–8 capital letters or digits (`IM`, `ENT`, `A1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NumberPrefix(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PrefixProblem {
    #[error("a prefix has 1 to 8 characters")]
    Length,
    #[error("a prefix uses only capital letters A–Z and digits")]
    Characters,
}

impl NumberPrefix {
    pub fn parse(raw: &str) -> Result<Self, PrefixProblem> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 8 {
            return Err(PrefixProblem::Length);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(PrefixProblem::Characters);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The n-th check-in of a department's day (n ≥ 1), with the department's prefix if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingNumber {
    pub prefix: Option<NumberPrefix>,
    pub n: u64,
}

impl fmt::Display for WaitingNumber {
    /// `IM-007` (at least three digits after a prefix), or the bare number without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            Some(p) => write!(f, "{}-{:03}", p.as_str(), self.n),
            None => write!(f, "{}", self.n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_with_and_without_a_prefix() {
        let im = NumberPrefix::parse("IM").unwrap();
        let show = |prefix: Option<NumberPrefix>, n| WaitingNumber { prefix, n }.to_string();
        assert_eq!(show(Some(im.clone()), 7), "IM-007");
        assert_eq!(show(Some(im), 1234), "IM-1234");
        assert_eq!(show(None, 7), "7");
    }

    #[test]
    fn prefixes_are_short_capitals_and_digits() {
        assert!(NumberPrefix::parse("ENT").is_ok());
        assert_eq!(NumberPrefix::parse(""), Err(PrefixProblem::Length));
        assert_eq!(NumberPrefix::parse("ABCDEFGHI"), Err(PrefixProblem::Length));
        assert_eq!(NumberPrefix::parse("im"), Err(PrefixProblem::Characters));
        assert_eq!(NumberPrefix::parse("내과"), Err(PrefixProblem::Characters));
    }
}
