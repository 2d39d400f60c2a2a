//! Cursor pagination: stable, no duplicates, no gaps.

use docde_search::{Error, HospitalQuery, OpenAt, Sort};

use crate::fixture::*;

fn queries() -> Vec<HospitalQuery> {
    vec![
        text(""),
        text("서울"),
        text("내과"),
        text("ㅇ"),
        HospitalQuery {
            sort: Sort::Distance {
                lat: 37.5,
                lon: 127.0,
            },
            ..text("")
        },
        HospitalQuery {
            open_at: Some(OpenAt {
                weekday: 0,
                minute: 600,
                is_public_holiday: false,
            }),
            ..text("병원")
        },
    ]
}

#[test]
fn paging_through_everything_has_no_duplicates_or_gaps() {
    let index = index();
    for q in queries() {
        let one_page = ids(&index, &q);
        let total = page(&index, &q).total;
        assert_eq!(one_page.len(), total, "{q:?}");
        for limit in [1, 2, 3, 5] {
            let paged = all_pages(&index, &HospitalQuery { limit, ..q.clone() });
            assert_eq!(paged, one_page, "limit {limit}, {q:?}");
        }
    }
}

#[test]
fn the_last_page_has_no_cursor_and_limit_zero_only_counts() {
    let index = index();
    let p = page(
        &index,
        &HospitalQuery {
            limit: 3,
            ..text("서울대")
        },
    );
    assert_eq!(p.items.len(), 3);
    assert!(p.next_cursor.is_none());
    assert_eq!(p.total, 3);
    let p = page(
        &index,
        &HospitalQuery {
            limit: 0,
            ..text("서울")
        },
    );
    assert!(p.items.is_empty() && p.next_cursor.is_none());
    assert!(p.total > 5);
}

#[test]
fn a_cursor_only_works_for_its_own_query() {
    let index = index();
    let p = page(
        &index,
        &HospitalQuery {
            limit: 1,
            ..text("서울")
        },
    );
    let cursor = p.next_cursor.unwrap();
    // same query, different limit: fine
    let q = HospitalQuery {
        limit: 2,
        cursor: Some(cursor.clone()),
        ..text("서울")
    };
    assert!(index.search_hospitals(&q).is_ok());
    // another query or garbage: rejected
    for (text_, cursor) in [
        ("내과", cursor.clone()),
        ("서울", "abc".into()),
        ("서울", cursor.replace('0', "1")),
    ] {
        let q = HospitalQuery {
            cursor: Some(cursor),
            ..text(text_)
        };
        assert!(
            matches!(index.search_hospitals(&q), Err(Error::InvalidCursor)),
            "{text_}"
        );
    }
}

#[test]
fn pages_stay_consistent_when_other_documents_change_between_pages() {
    let index = index();
    let q = HospitalQuery {
        limit: 2,
        ..text("서울")
    };
    let first = page(&index, &q);
    let seen: Vec<u128> = first.items.iter().map(|h| h.id.as_u128()).collect();
    // a new best match and a deleted not-yet-seen one appear between pages
    let mut doc = hospitals().remove(0);
    doc.id = uuid::Uuid::from_u128(500);
    doc.name = "서울".into();
    index.upsert_hospital(&doc).unwrap();
    index.delete_hospital(id(SAMSUNG)).unwrap();
    let rest = all_pages(
        &index,
        &HospitalQuery {
            cursor: first.next_cursor,
            ..q.clone()
        },
    );
    let before: Vec<u128> = ids(&index, &q);
    assert!(
        !rest.contains(&500),
        "new documents before the cursor are not repeated"
    );
    assert!(!rest.contains(&SAMSUNG));
    for id in &seen {
        assert!(!rest.contains(id), "no duplicates");
    }
    // everything after the cursor that still exists is there, in order
    let expected_rest: Vec<u128> = before
        .into_iter()
        .filter(|i| *i != 500 && !seen.contains(i))
        .collect();
    assert_eq!(rest, expected_rest);
}

#[test]
fn totals_are_exact_up_to_the_cap_and_paging_reaches_every_match_beyond_it() {
    use docde_search::{MAX_LIMIT, SearchIndex, TOTAL_CAP};

    use crate::recall::{generate, searched_values};

    let hs = generate(2 * TOTAL_CAP);
    let index = SearchIndex::build(hs.clone(), Vec::new()).unwrap();
    let mut beyond = 0;
    for q in ["의원", "원", "서울", "치과", ""] {
        let expect: Vec<u128> = hs
            .iter()
            .filter(|h| searched_values(h).any(|v| fold(v).contains(&fold(q))))
            .map(|h| h.id.as_u128())
            .collect();
        let first = page(&index, &text(q));
        if expect.len() > TOTAL_CAP {
            beyond += 1;
            assert_eq!(
                (first.total, first.total_is_lower_bound),
                (TOTAL_CAP, true),
                "{q}"
            );
        } else {
            assert_eq!(
                (first.total, first.total_is_lower_bound),
                (expect.len(), false),
                "{q}"
            );
        }
        let paged = all_pages(
            &index,
            &HospitalQuery {
                limit: MAX_LIMIT,
                ..text(q)
            },
        );
        let mut unique = paged.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), paged.len(), "no duplicates: {q}");
        assert_eq!(unique, expect, "every match is reachable: {q}");
        // other page sizes walk the same order
        assert_eq!(
            all_pages(
                &index,
                &HospitalQuery {
                    limit: 7,
                    ..text(q)
                }
            ),
            paged,
            "{q}"
        );
    }
    assert!(beyond >= 2, "the data set must exercise the cap");
}
