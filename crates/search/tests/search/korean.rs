//! Korean matching: substrings, no false positives, 초성, spacing and normalisation.

use unicode_normalization::UnicodeNormalization;

use crate::fixture::*;

#[test]
fn seouldae_finds_both_snu_hospitals_and_the_station_clinic() {
    let index = index();
    let found = sorted(ids(&index, &text("서울대")));
    assert_eq!(found, [SNUH, SNUBH, STATION_ORTHO]);
    assert_eq!(found, brute_force(&hospitals(), "서울대"));
}

#[test]
fn daehakgyo_byeongwon_finds_every_university_hospital() {
    let index = index();
    let found = sorted(ids(&index, &text("대학교병원")));
    assert_eq!(found, [SNUH, SNUBH, PNUH]);
    assert_eq!(found, brute_force(&hospitals(), "대학교병원"));
}

#[test]
fn bigrams_that_are_not_adjacent_in_the_text_do_not_match() {
    let index = index();
    // 서대 is not in 서울대: only 서대문구 (세브란스's address) has it.
    assert_eq!(ids(&index, &text("서대")), [SEVERANCE]);
    // 서울병원 needs 서울+울병+병원 in a row: only 삼성서울병원, not 서울대학교병원.
    assert_eq!(ids(&index, &text("서울병원")), [SAMSUNG]);
    // 내과 and 외과 are adjacent department values; a match never spans two values.
    assert!(ids(&index, &text("내과외과")).is_empty());
    for q in [
        "서대",
        "서울병원",
        "울대학교",
        "학교병원",
        "성서울",
        "내과외과",
    ] {
        assert_eq!(
            sorted(ids(&index, &text(q))),
            brute_force(&hospitals(), q),
            "{q}"
        );
    }
}

#[test]
fn one_and_two_syllable_queries_have_full_recall_on_the_fixed_set() {
    let index = index();
    let hs = hospitals();
    let mut queries: Vec<String> = Vec::new();
    for h in &hs {
        for value in std::iter::once(&h.name)
            .chain([&h.address])
            .chain(&h.departments)
            .chain(&h.doctor_names)
        {
            let chars: Vec<char> = fold(value).chars().collect();
            queries.extend(chars.iter().map(|c| c.to_string()));
            queries.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    queries.sort();
    queries.dedup();
    assert!(queries.len() > 300);
    for q in &queries {
        let found = sorted(all_pages(&index, &text(q)));
        assert_eq!(found, brute_force(&hs, q), "query {q:?}");
    }
}

#[test]
fn initial_consonants_find_names() {
    let index = index();
    let found = sorted(ids(&index, &text("ㅅㅇㄷ")));
    // 서울대학교병원, 분당서울대학교병원 (…ㅅㅇㄷ…), 서울대입구역
    assert_eq!(found, [SNUH, SNUBH, STATION_ORTHO]);
    // 쌍자음: 쌍문한의원 is ㅆㅁㅎㅇㅇ
    assert_eq!(ids(&index, &text("ㅆㅁ")), [SSANGMUN]);
    // ㅅ is not ㅆ: ㅅㅁ finds 서울성모병원 (ㅅㅇㅅㅁㅂㅇ), not 쌍문한의원
    assert_eq!(ids(&index, &text("ㅅㅁ")), [ST_MARY]);
    let hs = hospitals();
    for q in ["ㅅㅇ", "ㅂㅇ", "ㄷㅎㄱㅂㅇ", "ㅇ", "ㄴㄱ"] {
        let expect: Vec<u128> = sorted(
            hs.iter()
                .filter(|h| chosung(&h.name).contains(q))
                .map(|h| h.id.as_u128())
                .collect(),
        );
        assert_eq!(sorted(ids(&index, &text(q))), expect, "{q}");
    }
}

#[test]
fn chosung_hits_highlight_the_matching_syllables() {
    let index = index();
    let hit = &page(&index, &text("ㅅㅇㄷ")).items[0];
    assert_eq!(hit.id.as_u128(), SNUH);
    let name = hit.highlights.iter().find(|h| h.field == "name").unwrap();
    assert_eq!(name.text, "서울대학교병원");
    assert_eq!(name.ranges, [(0, 3)]);
}

#[test]
fn spacing_in_the_query_or_the_text_does_not_matter() {
    let index = index();
    assert_eq!(ids(&index, &text("서울 대학교"))[0], SNUH);
    assert!(ids(&index, &text("서울 대학교")).contains(&SNUBH));
    // the name has a space, the query does not
    assert_eq!(ids(&index, &text("연세대학교세브란스")), [SEVERANCE]);
    assert_eq!(ids(&index, &text("서울대입구역정형외과"))[0], STATION_ORTHO);
}

#[test]
fn an_nfd_query_matches_like_its_nfc_form() {
    let index = index();
    for q in ["서울대학교병원", "서울대", "내과", "ㅅㅇㄷ", "쌍문"] {
        let nfd: String = q.nfd().collect();
        assert_eq!(ids(&index, &text(&nfd)), ids(&index, &text(q)), "{q}");
    }
    // and NFD text in the index matches NFC queries
    let mut doc = hospitals().remove(0);
    doc.id = uuid::Uuid::from_u128(99);
    doc.name = "가나다라의원".nfd().collect();
    index.upsert_hospital(&doc).unwrap();
    assert!(ids(&index, &text("나다라")).contains(&99));
    let hit = page(&index, &text("나다라")).items.remove(0);
    let name = hit.highlights.iter().find(|h| h.field == "name").unwrap();
    // ranges are char offsets into the stored (NFD) text: 나다라 = 6 jamo after 가's 2
    assert_eq!(name.ranges, [(2, 8)]);
}

#[test]
fn full_width_and_upper_case_are_folded() {
    let index = index();
    assert_eq!(ids(&index, &text("ＳＡＭＳＵＮＧ"))[0], SAMSUNG);
    assert_eq!(
        ids(&index, &text("ｓａｍｓｕｎｇ")),
        ids(&index, &text("Samsung"))
    );
}

#[test]
fn highlights_mark_name_address_department_and_doctor_matches() {
    let index = index();
    let hit = page(&index, &text("서울대")).items.remove(0);
    assert_eq!(hit.id.as_u128(), SNUH);
    let name = hit.highlights.iter().find(|h| h.field == "name").unwrap();
    assert_eq!(
        (name.text.as_str(), name.ranges.as_slice()),
        ("서울대학교병원", &[(0, 3)][..])
    );

    let hit = page(&index, &text("김민준")).items.remove(0);
    assert_eq!(hit.id.as_u128(), SNUH);
    let doctor = hit.highlights.iter().find(|h| h.field == "doctor").unwrap();
    assert_eq!(
        (doctor.text.as_str(), doctor.ranges.as_slice()),
        ("김민준", &[(0, 3)][..])
    );

    let hit = page(&index, &text("종로 내과")).items.remove(0);
    let fields: Vec<&str> = hit.highlights.iter().map(|h| h.field).collect();
    assert!(
        fields.contains(&"address") && fields.contains(&"department"),
        "{fields:?}"
    );
}
