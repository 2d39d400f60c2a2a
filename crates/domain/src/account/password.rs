//! Password rules, following NIST SP 800-63B: length over complexity, no composition rules,
//! reject the obvious.

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("is too easy to guess")]
    Common,
    #[error("must not contain your e-mail address")]
    ContainsEmail,
}

pub const MIN_CHARS: usize = 10;
pub const MAX_CHARS: usize = 128;

/// Frequent passwords and patterns found at the top of every leaked-password list.
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "iloveyou",
    "letmein",
    "welcome",
    "admin",
    "dragon",
    "monkey",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "abc123",
    "123qwe",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "q1w2e3r4",
    "zxcvbnm",
    "hospital",
    "docde",
    "changeme",
];

/// Checks `password` for an account whose e-mail local part is `email_local` (if any).
pub fn check_password(password: &str, email_local: Option<&str>) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let distinct = {
        let mut seen: Vec<char> = lower.chars().collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    let stripped = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c == '!');
    if distinct <= 3 || is_sequence(&lower) || COMMON.iter().any(|c| stripped == *c || lower == *c)
    {
        return Err(PasswordProblem::Common);
    }
    if let Some(local) = email_local
        .map(str::to_lowercase)
        .filter(|l| l.chars().count() >= 4)
        && lower.contains(&local)
    {
        return Err(PasswordProblem::ContainsEmail);
    }
    Ok(())
}

/// `1234567890`, `abcdefghij`, `9876543210`: each character one after the other (digits wrap
/// from 9 to 0, as on a keyboard row).
fn is_sequence(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let next = |a: char, b: char| u32::from(b) == u32::from(a) + 1 || (a == '9' && b == '0');
    chars.windows(2).all(|w| next(w[0], w[1])) || chars.windows(2).all(|w| next(w[1], w[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_unusual_passphrases_are_accepted() {
        assert_eq!(check_password("봄날 병원 산책 2026", None), Ok(()));
        assert_eq!(check_password("correct horse battery", Some("kim")), Ok(()));
    }

    #[test]
    fn each_rule_has_its_reason() {
        assert_eq!(
            check_password("short1!", None),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            check_password(&"ab3".repeat(50), None),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_password("Password123!", None),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password("1234567890", None),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password("aaaaaaaaaaaa", None),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password("1q2w3e4r5t", None),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password("my-minji.kim-rocks", Some("Minji.Kim")),
            Err(PasswordProblem::ContainsEmail)
        );
    }

    proptest! {
        #[test]
        fn anything_shorter_than_the_minimum_is_refused(p in "\\PC{0,9}") {
            prop_assert_eq!(check_password(&p, None), Err(PasswordProblem::TooShort));
        }
    }
}
