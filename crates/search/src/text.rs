//! Text normalisation shared by indexing, querying and highlighting.
//!
//! Every string that reaches the index or a query goes through [`fold_char`], so the three sides
//! can never disagree about what "the same text" is:
//!
//! 1. Unicode NFC (a query typed in NFD — decomposed jamo — matches the composed index text);
//! 2. full-width ASCII (`Ｓａｍｓｕｎｇ`) and the ideographic space fold to ASCII;
//! 3. a lone conjoining initial consonant (U+1100…U+1112) becomes its compatibility jamo
//!    (U+3131…), the form a keyboard types for 초성 search;
//! 4. Latin letters with accents lose them (`é` → `e`), then everything is lower-cased;
//! 5. only alphanumeric characters (Hangul syllables and jamo count) are kept: spaces and
//!    punctuation are dropped, which is what makes `서울 대학교` match `서울대학교병원`.
//!
//! The result of folding a whole string without separators is its *key*; n-grams are cut from
//! keys. Highlighting needs to map key characters back to the original text, which
//! [`fold_mapped`] does.

use unicode_normalization::char::{canonical_combining_class, decompose_canonical};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// The 19 initial consonants (초성) as compatibility jamo, in Unicode syllable order.
const CHOSUNG: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ',
    'ㅌ', 'ㅍ', 'ㅎ',
];

const HANGUL_FIRST: u32 = 0xAC00;
const HANGUL_LAST: u32 = 0xD7A3;
/// Syllables per initial consonant: 21 vowels × 28 finals.
const PER_INITIAL: u32 = 21 * 28;

/// The initial consonant of a precomposed Hangul syllable, as a compatibility jamo.
pub(crate) fn chosung_of(c: char) -> Option<char> {
    let code = c as u32;
    if (HANGUL_FIRST..=HANGUL_LAST).contains(&code) {
        Some(CHOSUNG[((code - HANGUL_FIRST) / PER_INITIAL) as usize])
    } else {
        None
    }
}

/// True for the compatibility jamo that can start a syllable (ㄱ ㄲ ㄴ … ㅎ, 쌍자음 included).
pub(crate) fn is_chosung(c: char) -> bool {
    CHOSUNG.contains(&c)
}

/// The 초성 string of a key: each syllable becomes its initial consonant, anything else stays.
pub(crate) fn chosung_key(key: &str) -> String {
    key.chars().map(|c| chosung_of(c).unwrap_or(c)).collect()
}

/// Folds one NFC character (steps 2–5 of the module doc). `emit(Some(c))` receives each kept
/// character; `emit(None)` marks a separator (whitespace or punctuation).
#[inline]
pub(crate) fn fold_char(c: char, emit: &mut impl FnMut(Option<char>)) {
    // Fast path: Hangul syllables and compatibility jamo are kept as they are (no case, no
    // width, no accents), and they are most of what we index.
    if matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{3131}'..='\u{318E}') {
        emit(Some(c));
        return;
    }
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{1100}'..='\u{1112}' => CHOSUNG[(c as u32 - 0x1100) as usize],
        '\u{00C0}'..='\u{024F}' => {
            let mut base = c;
            decompose_canonical(c, |d| {
                if canonical_combining_class(d) == 0 {
                    base = d;
                }
            });
            base
        }
        _ => c,
    };
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            emit(Some(c.to_ascii_lowercase()));
        } else {
            emit(None);
        }
        return;
    }
    let mut kept = false;
    for l in c.to_lowercase() {
        if l.is_alphanumeric() {
            emit(Some(l));
            kept = true;
        }
    }
    if !kept {
        emit(None);
    }
}

fn for_each_nfc(text: &str, mut f: impl FnMut(char)) {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().for_each(f);
    } else {
        for c in text.nfc() {
            f(c);
        }
    }
}

/// The key of `text`: folded, separators dropped.
pub(crate) fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_nfc(text, |c| {
        fold_char(c, &mut |k| {
            if let Some(k) = k {
                out.push(k);
            }
        })
    });
    out
}

/// The words of `text` for the Latin word fields: folded, split at separators.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for_each_nfc(text, |c| {
        fold_char(c, &mut |k| match k {
            Some(k) => cur.push(k),
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        })
    });
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Folded text with a map back to the original: `chars[i]` came from original characters
/// `origin[i].0 .. origin[i].1` (char offsets). Separators appear as `' '`.
pub(crate) struct Folded {
    pub chars: Vec<char>,
    pub origin: Vec<(usize, usize)>,
}

/// A character starts a new normalisation chunk unless it combines with what precedes it
/// (a combining mark, or a Hangul medial/final conjoining jamo).
fn starts_chunk(c: char) -> bool {
    canonical_combining_class(c) == 0
        && !matches!(c, '\u{1160}'..='\u{11FF}' | '\u{D7B0}'..='\u{D7FF}')
}

/// Folds `text` keeping track of where each folded character came from (for highlights).
pub(crate) fn fold_mapped(text: &str) -> Folded {
    let orig: Vec<char> = text.chars().collect();
    let mut out = Folded {
        chars: Vec::with_capacity(orig.len()),
        origin: Vec::with_capacity(orig.len()),
    };
    if is_nfc_quick(orig.iter().copied()) == IsNormalized::Yes {
        // Already composed (the usual case): every character is its own chunk.
        for (i, &c) in orig.iter().enumerate() {
            fold_char(c, &mut |k| {
                out.chars.push(k.unwrap_or(' '));
                out.origin.push((i, i + 1));
            });
        }
        return out;
    }
    let mut i = 0;
    let mut chunk = String::new();
    while i < orig.len() {
        let mut j = i + 1;
        while j < orig.len() && !starts_chunk(orig[j]) {
            j += 1;
        }
        chunk.clear();
        chunk.extend(&orig[i..j]);
        for c in chunk.nfc() {
            fold_char(c, &mut |k| {
                out.chars.push(k.unwrap_or(' '));
                out.origin.push((i, j));
            });
        }
        i = j;
    }
    out
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transposition), capped: returns
/// `max + 1` as soon as the distance is known to exceed `max`.
pub(crate) fn osa_distance(a: &[char], b: &[char], max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m].min(max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_drops_spaces_and_punctuation_and_folds_case_and_width() {
        assert_eq!(key("서울 대학교(본원)"), "서울대학교본원");
        assert_eq!(key("Ｓａｍｓｕｎｇ Medical"), "samsungmedical");
        assert_eq!(key("St. Mary's"), "stmarys");
        assert_eq!(key("Café"), "cafe");
    }

    #[test]
    fn nfd_input_has_the_same_key_as_nfc() {
        let nfc = "서울대학교병원";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(key(&nfd), key(nfc));
    }

    #[test]
    fn chosung_maps_syllables_including_double_consonants() {
        assert_eq!(chosung_key("서울대"), "ㅅㅇㄷ");
        assert_eq!(chosung_key("쌍떡까"), "ㅆㄸㄲ");
        assert_eq!(chosung_key("gs내과"), "gsㄴㄱ");
        assert!(is_chosung('ㅆ'));
        assert!(!is_chosung('ㄳ'));
        // a lone conjoining initial (as some IMEs send) becomes the compatibility jamo
        assert_eq!(key("\u{1109}\u{110B}"), "ㅅㅇ");
    }

    #[test]
    fn words_split_at_separators() {
        assert_eq!(
            words("Seoul St. Mary's Hospital"),
            ["seoul", "st", "mary", "s", "hospital"]
        );
    }

    #[test]
    fn fold_mapped_maps_back_to_original_char_offsets() {
        let nfd: String = "가 나".nfd().collect(); // 가 = 2 jamo, 나 = 2 jamo
        let f = fold_mapped(&nfd);
        assert_eq!(f.chars, ['가', ' ', '나']);
        assert_eq!(f.origin, [(0, 2), (2, 3), (3, 5)]);
    }

    #[test]
    fn osa_distance_counts_a_transposition_as_one_edit() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_distance(&c("samsnug"), &c("samsung"), 1), 1);
        assert_eq!(osa_distance(&c("samsung"), &c("samsung"), 1), 0);
        assert_eq!(osa_distance(&c("samxxng"), &c("samsung"), 1), 2);
        assert_eq!(osa_distance(&c("mary"), &c("marys"), 1), 1);
    }
}
