//! Latin names and addresses: case, word prefixes, typos, AND of words.

use crate::fixture::*;

#[test]
fn latin_names_match_case_insensitively_by_word_and_prefix() {
    let index = index();
    for q in [
        "samsung",
        "SAMSUNG",
        "Samsung Medical",
        "sams",
        "samsung med",
    ] {
        assert_eq!(ids(&index, &text(q)), [SAMSUNG], "{q}");
    }
}

#[test]
fn one_typo_is_tolerated_in_words_of_four_letters_or_more() {
    let index = index();
    assert_eq!(ids(&index, &text("samsnug")), [SAMSUNG]); // transposition
    assert_eq!(ids(&index, &text("samsang")), [SAMSUNG]); // substitution
    assert_eq!(ids(&index, &text("samsnu")), [SAMSUNG]); // typo in a prefix
    assert_eq!(ids(&index, &text("severanse")), [SEVERANCE]);
    assert!(ids(&index, &text("smasnug")).is_empty()); // two edits
}

#[test]
fn seoul_st_mary_finds_only_st_marys() {
    let index = index();
    assert_eq!(ids(&index, &text("seoul st mary")), [ST_MARY]);
    assert_eq!(ids(&index, &text("seoul st. mary's")), [ST_MARY]);
    let hit = page(&index, &text("seoul st mary")).items.remove(0);
    let latin = hit
        .highlights
        .iter()
        .find(|h| h.field == "latin_name")
        .unwrap();
    assert_eq!(latin.text, "Seoul St. Mary's Hospital");
    assert_eq!(latin.ranges, [(0, 5), (6, 8), (10, 14)]);
}

#[test]
fn every_query_word_must_match() {
    let index = index();
    assert!(ids(&index, &text("samsung asan")).is_empty());
    assert_eq!(
        sorted(ids(&index, &text("seoul national university"))),
        [SNUH, SNUBH]
    );
    assert_eq!(ids(&index, &text("seoul national bundang")), [SNUBH]);
    assert_eq!(ids(&index, &text("national university pusan")), [PNUH]);
}

#[test]
fn latin_words_in_addresses_match_by_prefix_and_typo() {
    let index = index();
    assert_eq!(ids(&index, &text("teheran")), [LEE_DERM]);
    assert_eq!(ids(&index, &text("tehran")), [LEE_DERM]);
    assert_eq!(ids(&index, &text("Teheran-ro")), [LEE_DERM]);
    let hit = page(&index, &text("tehe")).items.remove(0);
    let address = hit
        .highlights
        .iter()
        .find(|h| h.field == "address")
        .unwrap();
    assert_eq!(address.ranges, [(20, 27)]);
}

#[test]
fn latin_and_hangul_words_combine() {
    let index = index();
    assert_eq!(ids(&index, &text("samsung 강남")), [SAMSUNG]);
    assert!(ids(&index, &text("samsung 종로")).is_empty());
}
