//! Highlights for the hits of one page: which characters of the stored original text matched.
//!
//! Runs only on the page's documents (never to decide matching), re-applying the same folding
//! as the index so the ranges agree with what matched: substrings of the key, 초성 substrings,
//! and Latin words (exact, prefix, one typo).

use crate::model::Highlight;
use crate::query::{ParsedText, allows_typo};
use crate::text::{self, Folded};

/// Which kinds of matching a field supports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kinds {
    pub substring: bool,
    pub chosung: bool,
    pub latin: bool,
}

pub(crate) const SUBSTRING: Kinds = Kinds {
    substring: true,
    chosung: false,
    latin: false,
};

/// A highlight of `value` for `parsed`, `None` if nothing in it matched.
pub(crate) fn highlight(
    parsed: &ParsedText,
    field: &'static str,
    value: &str,
    kinds: Kinds,
) -> Option<Highlight> {
    if parsed.is_empty() || cannot_match(parsed, value, kinds) {
        return None;
    }
    let folded = text::fold_mapped(value);
    let compact: Vec<(char, (usize, usize))> = folded
        .chars
        .iter()
        .zip(&folded.origin)
        .filter(|(c, _)| **c != ' ')
        .map(|(c, o)| (*c, *o))
        .collect();
    let mut ranges = Vec::new();
    for word in &parsed.words {
        if word.chosung {
            if kinds.chosung {
                let cho: Vec<char> = compact
                    .iter()
                    .map(|(c, _)| text::chosung_of(*c).unwrap_or(*c))
                    .collect();
                find_all(&cho, &word.key, &compact, &mut ranges);
            }
            continue;
        }
        if kinds.substring {
            let chars: Vec<char> = compact.iter().map(|(c, _)| *c).collect();
            find_all(&chars, &word.key, &compact, &mut ranges);
        }
        if kinds.latin && !word.latin.is_empty() {
            latin_words(&folded, &word.latin, &mut ranges);
        }
    }
    if ranges.is_empty() {
        return None;
    }
    Some(Highlight {
        field,
        text: value.to_owned(),
        ranges: merge(ranges),
    })
}

/// A quick, allocation-free "nothing here can match" for the common case of a value made of
/// precomposed Hangul syllables only (doctor names, departments): folding leaves such a value
/// unchanged, so a word can match only as a plain substring — or as 초성, or a Latin word,
/// which this does not try to rule out.
fn cannot_match(parsed: &ParsedText, value: &str, kinds: Kinds) -> bool {
    if value.contains(' ') || !value.chars().all(|c| ('가'..='힣').contains(&c)) {
        return false;
    }
    parsed.words.iter().zip(&parsed.keys).all(|(word, key)| {
        if word.chosung {
            !kinds.chosung
        } else {
            let latin = kinds.latin && !word.latin.is_empty();
            let substring = kinds.substring && value.contains(key.as_str());
            !(latin || substring)
        }
    })
}

fn find_all(
    hay: &[char],
    needle: &[char],
    origin: &[(char, (usize, usize))],
    out: &mut Vec<(usize, usize)>,
) {
    if needle.is_empty() || needle.len() > hay.len() {
        return;
    }
    for start in 0..=hay.len() - needle.len() {
        if hay[start..start + needle.len()] == *needle {
            out.push((origin[start].1.0, origin[start + needle.len() - 1].1.1));
        }
    }
}

/// Marks each folded word that one of `parts` matches as a Latin word.
fn latin_words(folded: &Folded, parts: &[String], out: &mut Vec<(usize, usize)>) {
    let parts: Vec<Vec<char>> = parts.iter().map(|p| p.chars().collect()).collect();
    let mut i = 0;
    let n = folded.chars.len();
    while i < n {
        if folded.chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && folded.chars[i] != ' ' {
            i += 1;
        }
        let word = &folded.chars[start..i];
        if parts.iter().any(|p| latin_matches(p, word)) {
            out.push((folded.origin[start].0, folded.origin[i - 1].1));
        }
    }
}

/// Exact, prefix, or (for typo-tolerant parts) one edit from the word or from a prefix of it.
fn latin_matches(part: &[char], word: &[char]) -> bool {
    if word.starts_with(part) {
        return true;
    }
    let s: String = part.iter().collect();
    if !allows_typo(&s) {
        return false;
    }
    let lo = part.len().saturating_sub(1);
    let hi = (part.len() + 1).min(word.len());
    (lo..=hi).any(|len| text::osa_distance(part, &word[..len], 1) <= 1)
}

fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(q: &str, value: &str, kinds: Kinds) -> Option<Vec<(usize, usize)>> {
        let parsed = ParsedText::parse(q).unwrap();
        highlight(&parsed, "name", value, kinds).map(|h| h.ranges)
    }

    const ALL: Kinds = Kinds {
        substring: true,
        chosung: true,
        latin: true,
    };

    #[test]
    fn substring_ranges_are_char_offsets_into_the_original() {
        assert_eq!(hl("서울대", "분당서울대학교병원", ALL), Some(vec![(2, 5)]));
        // spaces in the text are skipped by the match but stay in the offsets
        assert_eq!(
            hl("역정형", "서울대입구역 정형외과", ALL),
            Some(vec![(5, 9)])
        );
        assert_eq!(hl("서울 대학교", "서울대학교병원", ALL), Some(vec![(0, 5)]));
        assert_eq!(hl("서대", "서울대학교병원", ALL), None);
    }

    #[test]
    fn chosung_and_latin_ranges() {
        assert_eq!(hl("ㅅㅇㄷ", "서울대학교병원", ALL), Some(vec![(0, 3)]));
        assert_eq!(hl("ㅅㅇㄷ", "서울대학교병원", SUBSTRING), None);
        assert_eq!(
            hl("samsnug med", "Samsung Medical Center", ALL),
            Some(vec![(0, 7), (8, 15)])
        );
        assert_eq!(
            hl("seoul st mary", "Seoul St. Mary's Hospital", ALL),
            Some(vec![(0, 5), (6, 8), (10, 14)])
        );
    }
}
