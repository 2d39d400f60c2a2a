//! E-mail addresses as accounts use them: checked for shape, compared case-insensitively.

use std::fmt;

/// A plausible e-mail address. Deliverability is proven by the verification code, not here;
/// this rejects what can never be delivered and what would be ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("is empty")]
    Empty,
    #[error("is longer than 254 characters")]
    TooLong,
    #[error("must look like name@example.com")]
    Shape,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailProblem> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(EmailProblem::Empty);
        }
        if address.chars().count() > 254 {
            return Err(EmailProblem::TooLong);
        }
        let (local, domain) = address.rsplit_once('@').ok_or(EmailProblem::Shape)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c));
        if !(domain_ok && local_ok) {
            return Err(EmailProblem::Shape);
        }
        Ok(Self {
            address: address.to_owned(),
        })
    }

    /// As typed (trimmed): what mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The form that is unique and looked up: `Kim@Example.COM` and `kim@example.com` are one
    /// account. (The local part is case-sensitive in theory and never in practice.)
    pub fn key(&self) -> String {
        self.address.to_lowercase()
    }

    /// The part before `@`, for password rules.
    pub fn local_part(&self) -> &str {
        self.address.rsplit_once('@').map(|(l, _)| l).unwrap_or("")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_addresses_are_accepted_and_keyed_case_insensitively() {
        let e = Email::parse("  Kim.Minji+clinic@Hospital.CO.KR ").unwrap();
        assert_eq!(e.as_str(), "Kim.Minji+clinic@Hospital.CO.KR");
        assert_eq!(e.key(), "kim.minji+clinic@hospital.co.kr");
        assert_eq!(e.local_part(), "Kim.Minji+clinic");
        assert!(
            Email::parse("환자@병원.한국").is_ok(),
            "internationalised addresses are fine"
        );
    }

    #[test]
    fn broken_addresses_say_why() {
        assert_eq!(Email::parse(""), Err(EmailProblem::Empty));
        for bad in [
            "kim",
            "kim@",
            "@x.com",
            "kim@localhost",
            "kim@x..com",
            "a b@x.com",
            "kim@x.com.",
            "<kim>@x.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailProblem::Shape), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@x.com", "a".repeat(260))),
            Err(EmailProblem::TooLong)
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_keys_are_stable(raw in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap().key(), e.key());
            }
        }
    }
}
