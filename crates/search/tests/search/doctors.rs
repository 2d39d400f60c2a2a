//! Doctor search.

use docde_search::{DoctorQuery, MAX_LIMIT, SearchIndex, Sort};

use crate::fixture::*;

fn doctor_ids(index: &SearchIndex, q: &DoctorQuery) -> Vec<uuid::Uuid> {
    let q = DoctorQuery {
        limit: MAX_LIMIT,
        ..q.clone()
    };
    index
        .search_doctors(&q)
        .unwrap()
        .items
        .iter()
        .map(|d| d.id)
        .collect()
}

fn dq(text: &str) -> DoctorQuery {
    DoctorQuery {
        text: text.into(),
        ..DoctorQuery::default()
    }
}

#[test]
fn doctors_are_found_by_name_substring_and_initial_consonants() {
    let index = index();
    let kim_minjun = doctor_id(SNUH, 0);
    assert_eq!(doctor_ids(&index, &dq("김민준")), [kim_minjun]);
    assert_eq!(doctor_ids(&index, &dq("민준")), [kim_minjun]);
    assert_eq!(doctor_ids(&index, &dq("ㄱㅁㅈ")), [kim_minjun]);
    // two doctors named 이서연 (서울대병원, 서울아산병원) and one at her own clinic
    let lee = doctor_ids(&index, &dq("이서연"));
    assert_eq!(lee.len(), 3);
    let hit = index.search_doctors(&dq("서연")).unwrap().items.remove(0);
    let name = hit.highlights.iter().find(|h| h.field == "name").unwrap();
    assert_eq!(
        (name.text.as_str(), name.ranges.as_slice()),
        ("이서연", &[(1, 3)][..])
    );
    assert_eq!(doctor_ids(&index, &dq("ㅅㅁㅎ")), [doctor_id(SSANGMUN, 0)]); // 송민호
}

#[test]
fn doctors_are_found_by_department_and_hospital_name() {
    let index = index();
    let by_hospital = doctor_ids(&index, &dq("서울아산"));
    assert_eq!(by_hospital, [doctor_id(ASAN, 0), doctor_id(ASAN, 1)]);
    let hit = index
        .search_doctors(&dq("서울아산"))
        .unwrap()
        .items
        .remove(0);
    assert_eq!(hit.hospital_id, id(ASAN));
    assert_eq!(hit.highlights[0].field, "hospital");
    let peds = doctor_ids(&index, &dq("소아청소년과"));
    assert_eq!(peds, [doctor_id(HAPPY_PEDS, 0)]);
    // name beats hospital name: 이서연 the dermatologist's clinic is 이서연피부과의원
    let lee = doctor_ids(&index, &dq("이서연 피부과"));
    assert_eq!(lee, [doctor_id(LEE_DERM, 0)]);
}

#[test]
fn doctor_filters_by_region_department_and_hospital() {
    let index = index();
    let q = DoctorQuery {
        sido: Some("경기도".into()),
        ..dq("")
    };
    assert_eq!(
        doctor_ids(&index, &q),
        [doctor_id(SNUBH, 0), doctor_id(HAPPY_PEDS, 0)]
    );
    let q = DoctorQuery {
        department: Some("내과".into()),
        sigungu: Some("종로구".into()),
        ..dq("")
    };
    assert_eq!(
        doctor_ids(&index, &q),
        [
            doctor_id(SNUH, 0),
            doctor_id(SNUH, 1),
            doctor_id(KIM_CLINIC, 0)
        ]
    );
    let q = DoctorQuery {
        hospital_id: Some(id(ASAN)),
        ..dq("이서연")
    };
    assert_eq!(doctor_ids(&index, &q), [doctor_id(ASAN, 1)]);
}

#[test]
fn doctors_sort_by_distance_and_page_without_gaps() {
    let index = index();
    let q = DoctorQuery {
        sort: Sort::Distance {
            lat: 35.1,
            lon: 129.0,
        },
        ..dq("")
    };
    let all = doctor_ids(&index, &q);
    assert_eq!(all[0], doctor_id(PNUH, 0)); // 부산
    assert_eq!(all.len(), index.doctor_count());
    let mut paged = Vec::new();
    let mut q = DoctorQuery { limit: 4, ..q };
    loop {
        let p = index.search_doctors(&q).unwrap();
        paged.extend(p.items.iter().map(|d| d.id));
        match p.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all);
}
