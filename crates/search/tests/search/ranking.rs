//! Relevance order, checked by hand.

use crate::fixture::*;

#[test]
fn the_exact_full_name_ranks_first() {
    let index = index();
    let found = ids(&index, &text("서울대학교병원"));
    assert_eq!(found, [SNUH, SNUBH]);
    assert_eq!(ids(&index, &text("서울 대학교 병원"))[0], SNUH);
    assert_eq!(ids(&index, &text("분당서울대학교병원"))[0], SNUBH);
    let hits = page(&index, &text("서울대학교병원")).items;
    assert!(hits[0].score > hits[1].score + 50.0);
}

#[test]
fn names_starting_with_the_query_come_first_then_shorter_names() {
    let index = index();
    // 서울대학교병원 and 서울대입구역… start with 서울대 (shorter first); 분당서울대… contains it.
    assert_eq!(ids(&index, &text("서울대")), [SNUH, STATION_ORTHO, SNUBH]);
    // Starts with 서울 (6, 6, 7, 10 chars; ties by id), then contains 서울 (6, 9 chars), then
    // hospitals whose address or doctors match.
    let found = ids(&index, &text("서울"));
    assert_eq!(
        found[..6],
        [ASAN, ST_MARY, SNUH, STATION_ORTHO, SAMSUNG, SNUBH]
    );
    assert_eq!(sorted(found.clone()), brute_force(&hospitals(), "서울"));
}

#[test]
fn name_matches_rank_above_department_address_and_doctor_matches() {
    let index = index();
    // 김내과의원 has 내과 in its name; everyone else only in departments (한방내과 too).
    let found = ids(&index, &text("내과"));
    assert_eq!(found[0], KIM_CLINIC);
    assert_eq!(sorted(found), brute_force(&hospitals(), "내과"));
    // 이서연피부과의원 by name beats the two hospitals where a doctor 이서연 works (those two
    // tie, the shorter name first).
    assert_eq!(ids(&index, &text("이서연")), [LEE_DERM, ASAN, SNUH]);
    // a hospital is found by one of its doctors' names
    assert_eq!(ids(&index, &text("김민준")), [SNUH]);
    // department beats address: 정형외과 is in 서울대입구역 정형외과's name, in SNUH's
    // departments; nobody's address.
    assert_eq!(ids(&index, &text("정형외과")), [STATION_ORTHO, SNUH]);
    // 대학로 is the dental clinic's name prefix; SNUH and the dental clinic have it in the address.
    assert_eq!(ids(&index, &text("대학로")), [DENTAL, SNUH]);
}

#[test]
fn department_matches_rank_above_address_matches() {
    let index = index();
    // 신경과 is a department of 분당서울대; nothing else has it.
    assert_eq!(ids(&index, &text("신경과")), [SNUBH]);
    // 외과: name of 서울대입구역 정형외과 first, then departments, no address has it.
    let found = ids(&index, &text("외과"));
    assert_eq!(found[0], STATION_ORTHO);
    // 구 (district) is in almost every address; names containing 구 rank first.
    let found = ids(&index, &text("구"));
    assert_eq!(found[0], STATION_ORTHO); // 서울대입구역 정형외과
}
