//! Medical records and reviews: the values a doctor or patient writes, parsed at the edge.
//!
//! Diagnosis codes follow KCD (the Korean Classification of Diseases, which is ICD-10 with
//! Korean extensions): a letter, two digits, then optionally a dot and up to four more
//! characters (`J06.9`, `E11.65`, `U07.1`). Stars are 1–5; review text is 1–2000 characters
//! after trimming. Nothing here knows about encryption or storage.

use std::fmt;

/// A KCD/ICD-10 style diagnosis code, upper-cased (`j06.9` is stored as `J06.9`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosisCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a diagnosis code like J06.9 (a letter, two digits, optionally a dot and up to 4 more)"
)]
pub struct DiagnosisCodeProblem(pub String);

impl DiagnosisCode {
    pub fn parse(text: &str) -> Result<Self, DiagnosisCodeProblem> {
        let code = text.trim().to_ascii_uppercase();
        let problem = || DiagnosisCodeProblem(text.to_owned());
        let bytes = code.as_bytes();
        if bytes.len() < 3
            || !bytes[0].is_ascii_uppercase()
            || !bytes[1].is_ascii_digit()
            || !bytes[2].is_ascii_alphanumeric()
        {
            return Err(problem());
        }
        match &code[3..] {
            "" => {}
            rest => {
                let tail = rest.strip_prefix('.').ok_or_else(problem)?;
                if tail.is_empty()
                    || tail.len() > 4
                    || !tail.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(problem());
                }
            }
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DiagnosisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// At most this many codes per record.
pub const MAX_DIAGNOSIS_CODES: usize = 20;

/// A review's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stars(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stars must be a whole number from 1 to 5")]
pub struct StarsProblem;

impl Stars {
    pub fn new(n: i64) -> Result<Self, StarsProblem> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Self)
            .ok_or(StarsProblem)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Free text a person writes (review text, a reply, a report reason, record fields): trimmed,
/// not empty, at most `max` characters, and no control characters but line breaks and tabs
/// (a NUL cannot even be stored in PostgreSQL text).
pub fn text(raw: &str, max: usize) -> Result<String, TextProblem> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(TextProblem::Empty);
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(TextProblem::ControlCharacter);
    }
    if trimmed.chars().count() > max {
        return Err(TextProblem::TooLong(max));
    }
    Ok(trimmed.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters other than line breaks and tabs")]
    ControlCharacter,
}

impl TextProblem {
    pub fn code(self) -> &'static str {
        match self {
            TextProblem::Empty => "empty_text",
            TextProblem::TooLong(_) => "text_too_long",
            TextProblem::ControlCharacter => "control_character",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_codes_are_a_letter_two_digits_and_an_optional_dotted_tail() {
        for ok in [
            "J06.9", "j06.9", " E11.65 ", "U07.1", "A09", "C34.1234", "S72.00",
        ] {
            assert!(DiagnosisCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(DiagnosisCode::parse("j06.9").unwrap().as_str(), "J06.9");
        for bad in [
            "",
            "J6",
            "06.9",
            "J06.",
            "J06.12345",
            "J06-9",
            "감기",
            "J06.9; DROP",
        ] {
            assert!(DiagnosisCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stars_are_one_to_five() {
        assert!(Stars::new(0).is_err());
        assert!(Stars::new(6).is_err());
        assert!(Stars::new(-1).is_err());
        assert_eq!(Stars::new(5).unwrap().get(), 5);
        assert_eq!(Stars::new(1).unwrap().get(), 1);
    }

    #[test]
    fn text_is_trimmed_non_empty_and_bounded_in_characters() {
        assert_eq!(text("  친절해요 ", 10).unwrap(), "친절해요");
        assert_eq!(text(" \n ", 10).unwrap_err(), TextProblem::Empty);
        assert_eq!(
            text(&"가".repeat(11), 10).unwrap_err(),
            TextProblem::TooLong(10)
        );
        assert!(text(&"가".repeat(10), 10).is_ok());
        assert_eq!(
            text("a\u{0}b", 10).unwrap_err(),
            TextProblem::ControlCharacter
        );
        assert_eq!(text("줄\n바꿈\t탭", 10).unwrap(), "줄\n바꿈\t탭");
    }
}
