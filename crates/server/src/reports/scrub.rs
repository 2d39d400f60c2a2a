//! What of an internal error may leave the process: its cause chain with every value removed.
//!
//! Error messages are written by developers but often carry data: a database echoes the value
//! it refused, a context string may format an input, a panic message prints what it unwrapped.
//! Database errors are reduced to their kind, code and constraint name
//! (`docde_store::redact_error`); every other message keeps only lower-case ASCII words and
//! punctuation — names (Korean or romanised), numbers, e-mail addresses and quoted values
//! become `…` or `#`. Losing a capitalised word of a message is the price of never sending one.

/// Longest message kept per link of the chain, and the most links kept.
const MAX_LINK_CHARS: usize = 160;
const MAX_LINKS: usize = 8;

/// The cause chain of `error`, outermost first, safe to post to a chat channel.
pub fn chain(error: &anyhow::Error) -> Vec<String> {
    let mut links = Vec::new();
    for cause in error.chain() {
        if links.len() == MAX_LINKS {
            links.push("…".to_owned());
            break;
        }
        if let Some(db) = docde_store::redact_error(cause) {
            // The database error's own sources are the raw driver messages: stop here.
            links.push(db);
            break;
        }
        links.push(message(&cause.to_string()));
    }
    links
}

/// One message with values removed: quoted parts, and every word that is not plain lower-case
/// ASCII (`#` for words with digits, such as ids and phone numbers; `…` for the rest).
pub fn message(text: &str) -> String {
    let mut unquoted = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            // A quote opens only at the start of a word, so the apostrophe of "ward's" does not.
            None if matches!(c, '"' | '\'' | '`')
                && (previous.is_whitespace() || "(:=[,".contains(previous)) =>
            {
                quote = Some(c);
                unquoted.push_str(" … ");
            }
            None => unquoted.push(c),
        }
        previous = c;
    }
    let mut words: Vec<&str> = Vec::new();
    for word in unquoted.split_whitespace() {
        let plain = word
            .chars()
            .all(|c| c.is_ascii_lowercase() || "_-./():,;=[]<>{}!?&|+*'".contains(c));
        let has_digit = word.chars().any(|c| c.is_ascii_digit());
        let kept = if plain {
            word
        } else if has_digit
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:/#".contains(c))
        {
            "#"
        } else {
            "…"
        };
        // Runs of removed words collapse into one mark.
        if kept == "…" && words.last() == Some(&"…") {
            continue;
        }
        words.push(kept);
    }
    let mut out = words.join(" ");
    if out.chars().count() > MAX_LINK_CHARS {
        out = out.chars().take(MAX_LINK_CHARS).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_addresses_and_quoted_values_are_removed() {
        assert_eq!(
            message("relation patient_secret_table: Kim Minji"),
            "relation patient_secret_table: …"
        );
        assert_eq!(
            message("invalid input syntax for type uuid: \"김민지 010-2345-6789\""),
            "invalid input syntax for type uuid: …"
        );
        assert_eq!(
            message("no appointment for minji.kim@example.kr at 2026-12-02"),
            "no appointment for … at #"
        );
        assert_eq!(message("서울특별시 종로구 대학로 101"), "… #");
        assert_eq!(
            message("handler panicked: called `Option::unwrap()` on a `None` value"),
            "handler panicked: called … on a … value"
        );
    }

    #[test]
    fn plain_developer_messages_survive_whole() {
        for text in [
            "loading the ward's beds (store::ward::beds)",
            "writing the booking",
        ] {
            assert_eq!(message(text), text);
        }
    }

    #[test]
    fn a_database_error_is_reduced_to_its_kind_without_the_message() {
        let raw = sqlx::Error::Protocol("value Kim Minji".into());
        let error =
            anyhow::Error::new(docde_store::StoreError::Other(raw)).context("saving the visit");
        let links = chain(&error);
        assert_eq!(links[0], "saving the visit");
        assert_eq!(links[1], "database error (protocol)");
        assert_eq!(
            links.len(),
            2,
            "driver messages below the store error are not walked"
        );
    }
}
