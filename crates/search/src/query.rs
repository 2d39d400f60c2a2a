//! From query text to tantivy queries.
//!
//! The text is split at whitespace into words; **every word must match** somewhere (a
//! `BooleanQuery` of `Must` clauses), in any of the searched fields. Per word:
//!
//! * a word made only of initial consonants (ㄱ…ㅎ, 쌍자음 included) searches the 초성 n-gram
//!   fields;
//! * any other word searches the n-gram fields as an exact substring of the key: one unigram
//!   term for one character, one bigram term for two, otherwise a phrase of bigrams at their
//!   offsets (every other bigram plus the last one is enough to pin every character);
//! * a word of ASCII letters/digits also searches the Latin word fields: exact word, word prefix,
//!   and — from four letters on, without digits — edit distance 1 (transposition = 1 edit).
//!
//! Each field clause is a `ConstScoreQuery` with the field's tier score and a word's clauses are
//! combined with `DisjunctionMaxQuery` (best field counts, others add 1/8). Constant, dyadic
//! scores keep ranking predictable (a name match always beats an address match, which BM25 over
//! n-grams would not guarantee), skip BM25 work entirely, and make a document's score bitwise
//! identical whatever the segment layout — which keyset cursors rely on.

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use crate::text;
use crate::{Error, Result};

/// Longest accepted query text, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most words accepted in a query text.
pub const MAX_QUERY_WORDS: usize = 10;

/// Extra score when the whole query (spaces removed) equals the name.
pub(crate) const EXACT_BONUS: f32 = 100.0;
/// Extra score when the name starts with the whole query.
pub(crate) const PREFIX_BONUS: f32 = 20.0;
/// Extra score when a multi-word query appears in the name with its spaces removed.
pub(crate) const ADJACENT_BONUS: f32 = 5.0;
/// Share of the non-best fields' scores added by `DisjunctionMaxQuery`.
const TIE_BREAKER: f32 = 0.125;

/// One word of the query text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// Folded characters (see `text::key`).
    pub key: Vec<char>,
    /// Only initial consonants: a 초성 search.
    pub chosung: bool,
    /// For an ASCII word, its folded parts (`mary's` → `mary`, `s`); empty otherwise.
    pub latin: Vec<String>,
}

/// Query text split into words.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ParsedText {
    pub words: Vec<Word>,
    /// Each word's key as a string (for the highlighter's quick rejection).
    pub keys: Vec<String>,
}

impl ParsedText {
    pub(crate) fn parse(raw: &str) -> Result<ParsedText> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::QueryTooLong);
        }
        let mut words = Vec::new();
        for w in raw.split(|c: char| c.is_whitespace()) {
            let key: Vec<char> = text::key(w).chars().collect();
            if key.is_empty() {
                continue;
            }
            let chosung = key.iter().all(|&c| text::is_chosung(c));
            let latin = if key.iter().all(char::is_ascii_alphanumeric) {
                text::words(w)
            } else {
                Vec::new()
            };
            words.push(Word {
                key,
                chosung,
                latin,
            });
        }
        if words.len() > MAX_QUERY_WORDS {
            return Err(Error::QueryTooLong);
        }
        let keys = words.iter().map(|w| w.key.iter().collect()).collect();
        Ok(ParsedText { words, keys })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// All words' keys concatenated (the query with its spaces removed).
    pub(crate) fn joined(&self) -> Vec<char> {
        self.words
            .iter()
            .flat_map(|w| w.key.iter().copied())
            .collect()
    }

    /// True when some word is a 초성 search.
    pub(crate) fn has_chosung(&self) -> bool {
        self.words.iter().any(|w| w.chosung)
    }
}

/// A unigram field and a bigram field indexed from the same keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ngram {
    pub uni: Field,
    pub bi: Field,
}

impl Ngram {
    /// Documents whose key contains `key` as a substring (within one value).
    pub(crate) fn substring(&self, key: &[char]) -> Box<dyn Query> {
        match key.len() {
            0 => match_nothing(),
            1 => term(self.uni, &key[..1]),
            2 => term(self.bi, key),
            n => {
                let mut offsets: Vec<usize> = (0..n - 1).step_by(2).collect();
                if offsets.last() != Some(&(n - 2)) {
                    offsets.push(n - 2);
                }
                let terms = offsets
                    .into_iter()
                    .map(|o| (o, text_term(self.bi, &key[o..o + 2])))
                    .collect();
                Box::new(PhraseQuery::new_with_offset(terms))
            }
        }
    }
}

fn match_nothing() -> Box<dyn Query> {
    // Empty keys are dropped by `ParsedText::parse`; match nothing rather than panic.
    Box::new(tantivy::query::EmptyQuery)
}

fn text_term(field: Field, chars: &[char]) -> Term {
    let s: String = chars.iter().collect();
    Term::from_field_text(field, &s)
}

fn term(field: Field, chars: &[char]) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        text_term(field, chars),
        IndexRecordOption::Basic,
    ))
}

pub(crate) fn constant(query: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

/// Scores of a Latin word field for: exact word, word prefix, typo (distance 1), typo in a
/// prefix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LatinTiers(pub [f32; 4]);

/// How one index turns words into field clauses.
pub(crate) struct Scheme {
    /// N-gram fields searched by ordinary words, with their tier scores.
    pub substring: Vec<(Ngram, f32)>,
    /// N-gram fields of 초성 strings searched by consonant-only words.
    pub chosung: Vec<(Ngram, f32)>,
    /// Latin word fields searched by ASCII words.
    pub latin: Vec<(Field, LatinTiers)>,
    /// The name's n-grams (for the adjacency bonus).
    pub name: Ngram,
    /// Raw field holding the name's key.
    pub name_exact: Field,
    /// Prefix (edge n-gram) field of the name's key.
    pub name_prefix: Field,
}

/// One scoring clause of a text search: a query and the largest score it can give a document.
pub(crate) struct Clause {
    pub query: Box<dyn Query>,
    pub max: f32,
}

/// The text part of a search in the shape both executions need: every word is a disjunction of
/// field clauses (`DisjunctionMaxQuery` with [`TIE_BREAKER`]) and must match; bonuses are
/// optional clauses whose scores add up.
pub(crate) struct TextPlan {
    pub words: Vec<Vec<Clause>>,
    pub bonuses: Vec<Clause>,
}

impl TextPlan {
    /// The same search as one tantivy query (the collector path: distance order, counting).
    pub(crate) fn to_query(&self) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = self
            .words
            .iter()
            .map(|alternatives| {
                let q: Box<dyn Query> = Box::new(DisjunctionMaxQuery::with_tie_breaker(
                    alternatives.iter().map(|c| c.query.box_clone()).collect(),
                    TIE_BREAKER,
                ));
                (Occur::Must, q)
            })
            .collect();
        clauses.extend(
            self.bonuses
                .iter()
                .map(|c| (Occur::Should, c.query.box_clone())),
        );
        Box::new(BooleanQuery::new(clauses))
    }
}

/// A word's score from its matching field clauses, as `DisjunctionMaxQuery` computes it.
pub(crate) fn word_score(max: f32, sum: f32) -> f32 {
    max + (sum - max) * TIE_BREAKER
}

impl Scheme {
    /// The text part of a search, `None` when the text has no words.
    pub(crate) fn text_plan(&self, parsed: &ParsedText) -> Option<TextPlan> {
        if parsed.is_empty() {
            return None;
        }
        let words = parsed.words.iter().map(|w| self.word_clauses(w)).collect();
        let mut bonuses = Vec::new();
        if !parsed.has_chosung() {
            let joined = parsed.joined();
            let joined_str: String = joined.iter().collect();
            let term_bonus = |field: Field, score: f32| Clause {
                query: constant(
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, &joined_str),
                        IndexRecordOption::Basic,
                    )),
                    score,
                ),
                max: score,
            };
            bonuses.push(term_bonus(self.name_exact, EXACT_BONUS));
            if joined.len() <= crate::analysis::MAX_PREFIX_CHARS {
                bonuses.push(term_bonus(self.name_prefix, PREFIX_BONUS));
            }
            if parsed.words.len() > 1 {
                bonuses.push(Clause {
                    query: constant(self.name.substring(&joined), ADJACENT_BONUS),
                    max: ADJACENT_BONUS,
                });
            }
        }
        Some(TextPlan { words, bonuses })
    }

    fn word_clauses(&self, word: &Word) -> Vec<Clause> {
        let mut alternatives = Vec::new();
        let ngram = |(fields, score): &(Ngram, f32)| Clause {
            query: constant(fields.substring(&word.key), *score),
            max: *score,
        };
        if word.chosung {
            alternatives.extend(self.chosung.iter().map(ngram));
        } else {
            alternatives.extend(self.substring.iter().map(ngram));
            if !word.latin.is_empty() {
                for (field, tiers) in &self.latin {
                    alternatives.push(Clause {
                        query: latin_word_query(*field, &word.latin, *tiers),
                        max: tiers.0.iter().copied().fold(0.0, f32::max),
                    });
                }
            }
        }
        alternatives
    }
}

/// Whether a Latin query part may match with one typo.
pub(crate) fn allows_typo(part: &str) -> bool {
    part.len() >= 4 && part.bytes().all(|b| b.is_ascii_alphabetic())
}

fn latin_part_query(field: Field, part: &str, tiers: LatinTiers) -> Box<dyn Query> {
    let [exact, prefix, typo, typo_prefix] = tiers.0;
    let t = Term::from_field_text(field, part);
    let mut alts = vec![
        constant(
            Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic)),
            exact,
        ),
        constant(
            Box::new(FuzzyTermQuery::new_prefix(t.clone(), 0, true)),
            prefix,
        ),
    ];
    if allows_typo(part) {
        alts.push(constant(
            Box::new(FuzzyTermQuery::new(t.clone(), 1, true)),
            typo,
        ));
        alts.push(constant(
            Box::new(FuzzyTermQuery::new_prefix(t, 1, true)),
            typo_prefix,
        ));
    }
    Box::new(DisjunctionMaxQuery::new(alts))
}

/// A word like `mary's` has several parts: all must match (then it scores as a prefix match).
fn latin_word_query(field: Field, parts: &[String], tiers: LatinTiers) -> Box<dyn Query> {
    match parts {
        [one] => latin_part_query(field, one, tiers),
        many => constant(
            Box::new(BooleanQuery::intersection(
                many.iter()
                    .map(|p| latin_part_query(field, p, tiers))
                    .collect(),
            )),
            tiers.0[1],
        ),
    }
}

/// `field == value` as a zero-score filter clause (values are NFC-normalised and trimmed).
pub(crate) fn keyword_filter(field: Field, value: &str) -> Box<dyn Query> {
    constant(
        Box::new(TermQuery::new(
            Term::from_field_text(field, &keyword(value)),
            IndexRecordOption::Basic,
        )),
        0.0,
    )
}

/// The indexed form of a keyword (region, department, type): NFC, trimmed.
pub(crate) fn keyword(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    value.trim().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_at_whitespace_and_classified() {
        let p = ParsedText::parse("서울  대학교 ㅅㅇㄷ Mary's").unwrap();
        let keys: Vec<String> = p.words.iter().map(|w| w.key.iter().collect()).collect();
        assert_eq!(keys, ["서울", "대학교", "ㅅㅇㄷ", "marys"]);
        assert_eq!(
            p.words.iter().map(|w| w.chosung).collect::<Vec<_>>(),
            [false, false, true, false]
        );
        assert_eq!(p.words[3].latin, ["mary", "s"]);
        assert!(p.words[0].latin.is_empty());
        assert_eq!(
            p.joined().iter().collect::<String>(),
            "서울대학교ㅅㅇㄷmarys"
        );
    }

    #[test]
    fn punctuation_only_text_has_no_words_and_long_text_is_rejected() {
        assert!(ParsedText::parse(" ?! ").unwrap().is_empty());
        assert!(matches!(
            ParsedText::parse(&"가".repeat(MAX_QUERY_CHARS + 1)),
            Err(Error::QueryTooLong)
        ));
        assert!(matches!(
            ParsedText::parse(&"가 ".repeat(MAX_QUERY_WORDS + 1)),
            Err(Error::QueryTooLong)
        ));
    }
}
