//! Korean telephone numbers, normalised so the same number is stored one way.

use std::fmt;

/// A Korean phone number, stored as digits grouped with hyphens (`010-1234-5678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a Korean phone number such as 010-1234-5678 or 02-123-4567")]
pub struct PhoneProblem;

impl Phone {
    /// Accepts digits with optional spaces, hyphens, dots or parentheses, and the `+82`
    /// country prefix (`+82 10-1234-5678` → `010-1234-5678`).
    pub fn parse(raw: &str) -> Result<Self, PhoneProblem> {
        let raw = raw.trim();
        if raw.is_empty()
            || !raw
                .chars()
                .all(|c| c.is_ascii_digit() || " -.()+".contains(c))
        {
            return Err(PhoneProblem);
        }
        let mut digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if raw.starts_with('+') {
            digits = digits
                .strip_prefix("82")
                .map(|d| format!("0{}", d.trim_start_matches('0')))
                .ok_or(PhoneProblem)?;
        }
        if !digits.starts_with('0') {
            return Err(PhoneProblem);
        }
        let area = if digits.starts_with("02") { 2 } else { 3 };
        let rest = digits.len().checked_sub(area).ok_or(PhoneProblem)?;
        // Subscriber part is 7 or 8 digits: 3+4 or 4+4.
        let middle = match rest {
            7 => 3,
            8 => 4,
            _ => return Err(PhoneProblem),
        };
        let formatted = format!(
            "{}-{}-{}",
            &digits[..area],
            &digits[area..area + middle],
            &digits[area + middle..]
        );
        Ok(Self(formatted))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ways_of_writing_a_number_normalise_to_one_form() {
        for raw in [
            "010-1234-5678",
            "01012345678",
            "010 1234 5678",
            "+82 10-1234-5678",
            "+82-010-1234-5678",
        ] {
            assert_eq!(
                Phone::parse(raw).unwrap().as_str(),
                "010-1234-5678",
                "{raw}"
            );
        }
        assert_eq!(Phone::parse("02-123-4567").unwrap().as_str(), "02-123-4567");
        assert_eq!(
            Phone::parse("(031) 1234 5678").unwrap().as_str(),
            "031-1234-5678"
        );
    }

    #[test]
    fn non_numbers_are_rejected() {
        for bad in [
            "",
            "abc",
            "010-12",
            "1234-5678",
            "010-1234-56789-0",
            "+1 415 555 0100",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
