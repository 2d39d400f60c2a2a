//! Revised Romanization of Korean (국어의 로마자 표기법, 2000) for place names, so that bigger
//! hospitals get plausible Latin names ("Bundang", "Gangneung", "Deogyang").
//!
//! Covers what place names need: the jamo tables, liaison of a final consonant into a following
//! vowel, nasalisation (ㄱ/ㄷ/ㅂ before ㄴ/ㅁ) and the ㄹ rules (ㄴㄹ/ㄹㄴ/ㄹㄹ → ll, ㅇ/ㅁ/ㄱ/ㅂ + ㄹ
//! → n). As RR prescribes for proper nouns, ㅎ is written rather than merged (묵호 → Mukho).
//! Characters that are not Hangul syllables pass through unchanged.

const INITIALS: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
const MEDIALS: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
];
/// Finals before a consonant or at the end of a word.
const FINALS: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
];
/// Finals carried over to a following vowel (liaison).
const FINALS_BEFORE_VOWEL: [&str; 28] = [
    "", "g", "kk", "ks", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls", "lt", "lp", "r", "m",
    "b", "ps", "s", "ss", "ng", "j", "ch", "k", "t", "p", "",
];

// Initial consonant indices.
const I_N: u32 = 2;
const I_R: u32 = 5;
const I_M: u32 = 6;
const I_SILENT: u32 = 11;

/// How a final sounds, which decides the assimilation rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coda {
    None,
    K,
    N,
    T,
    L,
    M,
    P,
    Ng,
}

fn coda(final_index: u32) -> Coda {
    match final_index {
        0 => Coda::None,
        1 | 2 | 3 | 9 | 24 => Coda::K,
        4..=6 => Coda::N,
        7 | 19 | 20 | 22 | 23 | 25 | 27 => Coda::T,
        8 | 11..=13 | 15 => Coda::L,
        10 | 16 => Coda::M,
        14 | 17 | 18 | 26 => Coda::P,
        _ => Coda::Ng,
    }
}

fn syllable(c: char) -> Option<(u32, u32, u32)> {
    let code = u32::from(c).checked_sub(0xAC00).filter(|&c| c < 11_172)?;
    Some((code / 588, (code % 588) / 28, code % 28))
}

/// Romanizes Hangul, capitalising the first letter: `분당` → `Bundang`.
pub fn romanize(hangul: &str) -> String {
    let chars: Vec<char> = hangul.chars().collect();
    let mut out = String::with_capacity(hangul.len() * 2);
    // How the current syllable's initial is to be written, if a previous final changed it.
    let mut initial_override: Option<&'static str> = None;
    for (i, &c) in chars.iter().enumerate() {
        let Some((initial, medial, fin)) = syllable(c) else {
            initial_override = None;
            out.push(c);
            continue;
        };
        out.push_str(
            initial_override
                .take()
                .unwrap_or(INITIALS[initial as usize]),
        );
        out.push_str(MEDIALS[medial as usize]);
        let next_initial = chars.get(i + 1).and_then(|&n| syllable(n)).map(|s| s.0);
        let (final_text, next_text) = join(fin, next_initial);
        out.push_str(final_text);
        initial_override = next_text;
    }
    capitalise(out)
}

/// How a final is written given the next syllable's initial, and whether that initial changes.
fn join(fin: u32, next_initial: Option<u32>) -> (&'static str, Option<&'static str>) {
    let plain = FINALS[fin as usize];
    let Some(next) = next_initial else {
        return (plain, None);
    };
    let sound = coda(fin);
    match next {
        I_SILENT if sound != Coda::None => (FINALS_BEFORE_VOWEL[fin as usize], None),
        I_N | I_M => match sound {
            Coda::K => ("ng", None),
            Coda::T => ("n", None),
            Coda::P => ("m", None),
            Coda::L if next == I_N => ("l", Some("l")),
            _ => (plain, None),
        },
        I_R => match sound {
            Coda::None => ("", None),
            Coda::N | Coda::L => ("l", Some("l")),
            Coda::K => ("ng", Some("n")),
            Coda::P => ("m", Some("n")),
            Coda::T => ("n", Some("n")),
            Coda::M | Coda::Ng => (plain, Some("n")),
        },
        _ => (plain, None),
    }
}

fn capitalise(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::romanize;

    #[test]
    fn place_names_come_out_as_officially_romanized() {
        for (ko, en) in [
            ("서울", "Seoul"),
            ("부산", "Busan"),
            ("분당", "Bundang"),
            ("종로", "Jongno"),
            ("강릉", "Gangneung"),
            ("울릉", "Ulleung"),
            ("중랑", "Jungnang"),
            ("상록", "Sangnok"),
            ("덕양", "Deogyang"),
            ("왕십리", "Wangsimni"),
            ("백령", "Baengnyeong"),
            ("신라", "Silla"),
            ("철원", "Cheorwon"),
            ("의정부", "Uijeongbu"),
            ("마산합포", "Masanhappo"),
            ("관악", "Gwanak"),
            ("해운대", "Haeundae"),
            ("영등포", "Yeongdeungpo"),
            ("창녕", "Changnyeong"),
            ("남양주", "Namyangju"),
            ("구로", "Guro"),
            ("제주", "Jeju"),
        ] {
            assert_eq!(romanize(ko), en, "{ko}");
        }
    }

    #[test]
    fn text_that_is_not_hangul_passes_through() {
        assert_eq!(romanize("365"), "365");
        assert_eq!(romanize("서울 365"), "Seoul 365");
        assert_eq!(romanize(""), "");
    }
}
