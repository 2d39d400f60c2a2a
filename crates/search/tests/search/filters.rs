//! Keyword filters, "open at", distance sort and empty-text listing.

use docde_search::{DayHours, Error, HospitalQuery, OpenAt, Sort};

use crate::fixture::*;

fn filtered(f: impl FnOnce(&mut HospitalQuery)) -> HospitalQuery {
    let mut q = text("");
    f(&mut q);
    q
}

#[test]
fn region_department_and_type_filters_are_exact_keywords() {
    let index = index();
    let q = filtered(|q| {
        q.sido = Some("서울특별시".into());
        q.department = Some("소아청소년과".into());
    });
    assert_eq!(ids(&index, &q), [SNUH]);
    let q = filtered(|q| q.sigungu = Some("성남시 분당구".into()));
    assert_eq!(sorted(ids(&index, &q)), [SNUBH, HAPPY_PEDS]);
    let q = filtered(|q| q.hospital_type = Some("치과의원".into()));
    assert_eq!(ids(&index, &q), [DENTAL]);
    // exact: a prefix of the region is not the region
    let q = filtered(|q| q.sido = Some("서울".into()));
    assert!(ids(&index, &q).is_empty());
    // filters combine with text
    let q = HospitalQuery {
        sido: Some("경기도".into()),
        ..text("서울대")
    };
    assert_eq!(ids(&index, &q), [SNUBH]);
    let q = HospitalQuery {
        department: Some("내과".into()),
        ..text("")
    };
    assert_eq!(page(&index, &q).total, 8); // 7 university hospitals + 김내과의원, not 한방내과
}

#[test]
fn empty_text_lists_everything_that_passes_the_filters() {
    let index = index();
    let all = hospitals();
    assert_eq!(page(&index, &text("")).total, all.len());
    let q = filtered(|q| q.sido = Some("서울특별시".into()));
    let expect = sorted(
        all.iter()
            .filter(|h| h.sido == "서울특별시")
            .map(|h| h.id.as_u128())
            .collect(),
    );
    assert_eq!(sorted(all_pages(&index, &q)), expect);
}

fn open_at(weekday: u8, minute: u16, is_public_holiday: bool) -> Option<OpenAt> {
    Some(OpenAt {
        weekday,
        minute,
        is_public_holiday,
    })
}

fn is_open_reference(hours: Option<&DayHours>, minute: u16) -> bool {
    hours.is_some_and(|h| {
        h.open <= minute
            && minute < h.close
            && !h.lunch.is_some_and(|(s, e)| s <= minute && minute < e)
    })
}

#[test]
fn open_at_respects_opening_lunch_closing_minute_and_holidays() {
    let index = index();
    let kim = |at: Option<OpenAt>| -> bool {
        let q = HospitalQuery {
            open_at: at,
            ..text("김내과의원")
        };
        ids(&index, &q) == [KIM_CLINIC]
    };
    // Monday 09:00–18:00, lunch 13:00–14:00
    assert!(!kim(open_at(0, 539, false)));
    assert!(kim(open_at(0, 540, false)));
    assert!(kim(open_at(0, 779, false)));
    assert!(!kim(open_at(0, 780, false))); // lunch starts
    assert!(!kim(open_at(0, 839, false)));
    assert!(kim(open_at(0, 840, false))); // lunch is over
    assert!(kim(open_at(0, 1079, false)));
    assert!(!kim(open_at(0, 1080, false))); // the closing minute is closed
    // Saturday until 13:00, Sunday closed
    assert!(kim(open_at(5, 779, false)));
    assert!(!kim(open_at(5, 780, false)));
    assert!(!kim(open_at(6, 600, false)));
    // A public holiday on a Monday: no holiday hours → closed
    assert!(!kim(open_at(0, 600, true)));

    // The dental clinic opens 10:00–14:00 on public holidays, even on a Sunday.
    let dental = |at: Option<OpenAt>| -> bool {
        let q = HospitalQuery {
            open_at: at,
            ..text("대학로치과")
        };
        ids(&index, &q) == [DENTAL]
    };
    assert!(!dental(open_at(6, 700, false)));
    assert!(dental(open_at(6, 700, true)));
    assert!(!dental(open_at(6, 599, true)));
    assert!(!dental(open_at(2, 840, true)));
}

#[test]
fn open_at_filter_keeps_totals_and_pages_consistent() {
    let index = index();
    let all = hospitals();
    for (weekday, minute, holiday) in [
        (0, 600, false),
        (0, 800, false),
        (6, 700, true),
        (6, 100, false),
    ] {
        let q = HospitalQuery {
            open_at: open_at(weekday, minute, holiday),
            limit: 2,
            ..text("")
        };
        let expect = sorted(
            all.iter()
                .filter(|h| {
                    let hours = if holiday {
                        h.holiday.as_ref()
                    } else {
                        h.weekly[weekday as usize].as_ref()
                    };
                    is_open_reference(hours, minute)
                })
                .map(|h| h.id.as_u128())
                .collect(),
        );
        assert_eq!(page(&index, &q).total, expect.len());
        assert_eq!(sorted(all_pages(&index, &q)), expect);
    }
}

#[test]
fn invalid_open_at_and_coordinates_are_rejected() {
    let index = index();
    let q = HospitalQuery {
        open_at: open_at(7, 0, false),
        ..text("")
    };
    assert!(matches!(
        index.search_hospitals(&q),
        Err(Error::InvalidOpenAt)
    ));
    let q = HospitalQuery {
        open_at: open_at(0, 1440, false),
        ..text("")
    };
    assert!(matches!(
        index.search_hospitals(&q),
        Err(Error::InvalidOpenAt)
    ));
    let q = HospitalQuery {
        sort: Sort::Distance {
            lat: 95.0,
            lon: 127.0,
        },
        ..text("")
    };
    assert!(matches!(
        index.search_hospitals(&q),
        Err(Error::InvalidCoordinates)
    ));
}

fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

#[test]
fn distance_sort_orders_by_haversine_distance_and_puts_unknown_positions_last() {
    let index = index();
    let (lat, lon) = (37.5547, 126.9707); // 서울역
    let q = HospitalQuery {
        sort: Sort::Distance { lat, lon },
        limit: 3,
        ..text("")
    };
    let found = all_pages(&index, &q);
    let mut expect: Vec<(f64, u128)> = hospitals()
        .iter()
        .map(|h| {
            let d = haversine_m(lat, lon, h.lat, h.lon);
            (if d.is_nan() { f64::INFINITY } else { d }, h.id.as_u128())
        })
        .collect();
    expect.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(found, expect.iter().map(|e| e.1).collect::<Vec<_>>());
    assert_eq!(*found.last().unwrap(), NOWHERE);

    let hits = page(&index, &HospitalQuery { limit: 100, ..q }).items;
    for (hit, (d, _)) in hits.iter().zip(&expect) {
        match hit.distance_m {
            Some(m) => assert!((m - d).abs() < 0.01, "{m} vs {d}"),
            None => assert_eq!(hit.id.as_u128(), NOWHERE),
        }
    }
}

#[test]
fn distance_sort_applies_to_text_matches_only() {
    let index = index();
    // From 분당: 분당서울대 is nearer than 서울대학교병원 and the station clinic.
    let q = HospitalQuery {
        sort: Sort::Distance {
            lat: 37.36,
            lon: 127.11,
        },
        ..text("서울대")
    };
    assert_eq!(ids(&index, &q), [SNUBH, STATION_ORTHO, SNUH]);
    let q = HospitalQuery {
        sort: Sort::Distance {
            lat: 35.1,
            lon: 129.0,
        },
        sido: Some("서울특별시".into()),
        department: Some("내과".into()),
        ..text("")
    };
    let found = ids(&index, &q);
    assert_eq!(found.len(), 6);
    assert!(!found.contains(&PNUH));
}
