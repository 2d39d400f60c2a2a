//! The tantivy tokenizers behind the n-gram, prefix and word fields.
//!
//! tantivy's own `NgramTokenizer` gives every gram position 0, so phrase queries over its grams
//! cannot tell `서울대` from `서대`; these tokenizers give each gram the position of its first
//! character in the key, which turns "the query's grams at consecutive positions" into "the query
//! is a substring of the key". Each field value is folded with [`crate::text::key`] first.

use tantivy::Index;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

use crate::text;

/// Tokenizer names registered on every index.
pub(crate) const UNIGRAM: &str = "docde_unigram";
pub(crate) const BIGRAM: &str = "docde_bigram";
pub(crate) const PREFIX: &str = "docde_prefix";
pub(crate) const WORDS: &str = "docde_words";

/// Longest key prefix indexed for the "name starts with the query" bonus.
pub(crate) const MAX_PREFIX_CHARS: usize = 16;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Each key character at its own position.
    Unigram,
    /// Each pair of adjacent key characters, at the position of the first.
    Bigram,
    /// The key's first 1..=MAX_PREFIX_CHARS characters (edge n-grams).
    Prefix,
    /// Folded words split at separators, for Latin prefix and fuzzy matching.
    Words,
}

#[derive(Clone, Debug)]
struct KeyTokenizer(Kind);

struct KeyTokenStream {
    kind: Kind,
    chars: Vec<char>,
    words: std::vec::IntoIter<String>,
    next: usize,
    token: Token,
}

impl Tokenizer for KeyTokenizer {
    type TokenStream<'a> = KeyTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KeyTokenStream {
        let (chars, words) = match self.0 {
            Kind::Words => (Vec::new(), text::words(text)),
            _ => (text::key(text).chars().collect(), Vec::new()),
        };
        KeyTokenStream {
            kind: self.0,
            chars,
            words: words.into_iter(),
            next: 0,
            token: Token::default(),
        }
    }
}

impl TokenStream for KeyTokenStream {
    fn advance(&mut self) -> bool {
        let i = self.next;
        let token = &mut self.token;
        token.text.clear();
        match self.kind {
            Kind::Unigram => {
                let Some(&c) = self.chars.get(i) else {
                    return false;
                };
                token.text.push(c);
            }
            Kind::Bigram => {
                if i + 1 >= self.chars.len() {
                    return false;
                }
                token.text.extend(&self.chars[i..i + 2]);
            }
            Kind::Prefix => {
                if i >= self.chars.len().min(MAX_PREFIX_CHARS) {
                    return false;
                }
                token.text.extend(&self.chars[..=i]);
            }
            Kind::Words => {
                let Some(word) = self.words.next() else {
                    return false;
                };
                token.text = word;
            }
        }
        // Offsets are not used (highlights come from `text::fold_mapped`); positions are.
        // A bigram spans two positions: with tantivy's gap of one position between the values
        // of a multi-valued field, the next value then starts at least three positions after
        // this value's last bigram, so a phrase that skips every other bigram (see
        // `query::Ngram::substring`) can never straddle two values.
        token.position_length = if matches!(self.kind, Kind::Bigram) {
            2
        } else {
            1
        };
        token.position = i;
        token.offset_from = i;
        token.offset_to = i + 1;
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Registers the tokenizers on `index`.
pub(crate) fn register(index: &Index) {
    let manager = index.tokenizers();
    for (name, kind) in [
        (UNIGRAM, Kind::Unigram),
        (BIGRAM, Kind::Bigram),
        (PREFIX, Kind::Prefix),
        (WORDS, Kind::Words),
    ] {
        manager.register(name, TextAnalyzer::from(KeyTokenizer(kind)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(kind: Kind, text: &str) -> Vec<(String, usize)> {
        let mut t = KeyTokenizer(kind);
        let mut stream = t.token_stream(text);
        let mut out = Vec::new();
        while let Some(tok) = stream.next() {
            out.push((tok.text.clone(), tok.position));
        }
        out
    }

    #[test]
    fn bigrams_carry_the_position_of_their_first_character() {
        assert_eq!(
            tokens(Kind::Bigram, "서울 대학"),
            [("서울".into(), 0), ("울대".into(), 1), ("대학".into(), 2)]
        );
        assert!(tokens(Kind::Bigram, "김").is_empty());
    }

    #[test]
    fn unigrams_prefixes_and_words() {
        assert_eq!(
            tokens(Kind::Unigram, "내과"),
            [("내".into(), 0), ("과".into(), 1)]
        );
        assert_eq!(
            tokens(Kind::Prefix, "김내과"),
            [("김".into(), 0), ("김내".into(), 1), ("김내과".into(), 2)]
        );
        assert_eq!(
            tokens(Kind::Words, "Samsung Medical"),
            [("samsung".into(), 0), ("medical".into(), 1)]
        );
    }
}
