//! Writes: upsert, delete, visibility on return, concurrent readers.

use std::sync::atomic::{AtomicBool, Ordering};

use docde_search::{DoctorQuery, SearchIndex};

use crate::fixture::*;

#[test]
fn a_deleted_hospital_is_unfindable_as_soon_as_delete_returns() {
    let index = index();
    assert_eq!(ids(&index, &text("서울대학교병원"))[0], SNUH);
    let doctors_before = index.doctor_count();
    index.delete_hospital(id(SNUH)).unwrap();
    assert_eq!(ids(&index, &text("서울대학교병원")), [SNUBH]);
    assert!(ids(&index, &text("김민준")).is_empty());
    // its doctors go with it
    let q = DoctorQuery {
        text: "김민준".into(),
        ..DoctorQuery::default()
    };
    assert!(index.search_doctors(&q).unwrap().items.is_empty());
    assert_eq!(index.doctor_count(), doctors_before - 2);
    assert_eq!(index.len(), hospitals().len() - 1);
    // deleting again (or an unknown id) is fine
    index.delete_hospital(id(SNUH)).unwrap();
    index.delete_hospital(id(12345)).unwrap();
}

#[test]
fn upsert_replaces_the_previous_version() {
    let index = index();
    let mut doc = hospitals().remove(7); // 김내과의원
    assert_eq!(doc.id, id(KIM_CLINIC));
    doc.name = "김튼튼내과의원".into();
    index.upsert_hospital(&doc).unwrap();
    assert!(ids(&index, &text("김내과의원")).is_empty());
    assert_eq!(ids(&index, &text("튼튼"))[0], KIM_CLINIC);
    assert_eq!(index.len(), hospitals().len());
}

#[test]
fn doctors_can_be_upserted_and_deleted_alone() {
    let index = index();
    let mut doc = doctors(&hospitals()).remove(0);
    doc.name = "홍길동".into();
    index.upsert_doctor(&doc).unwrap();
    let q = DoctorQuery {
        text: "길동".into(),
        ..DoctorQuery::default()
    };
    assert_eq!(index.search_doctors(&q).unwrap().items[0].id, doc.id);
    index.delete_doctor(doc.id).unwrap();
    assert!(index.search_doctors(&q).unwrap().items.is_empty());
}

#[test]
fn readers_on_other_threads_never_see_a_hospital_after_its_delete_returned() {
    let index = index();
    let deleted = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = index.clone();
        let deleted = &deleted;
        s.spawn(move || {
            for _ in 0..2_000 {
                // Read the flag first: if the delete had returned, the hit must be gone.
                let was_deleted = deleted.load(Ordering::SeqCst);
                let found = ids(&reader, &text("삼성서울병원")).contains(&SAMSUNG);
                assert!(!(was_deleted && found));
                if was_deleted {
                    break;
                }
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(5));
        index.delete_hospital(id(SAMSUNG)).unwrap();
        deleted.store(true, Ordering::SeqCst);
    });
    assert!(ids(&index, &text("삼성서울병원")).is_empty());
}

#[test]
fn the_index_handle_is_a_cheap_shareable_clone() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<SearchIndex>();
    let index = index();
    let clone = index.clone();
    clone.delete_hospital(id(DENTAL)).unwrap();
    assert!(ids(&index, &text("대학로치과의원")).is_empty());
}

#[test]
fn an_empty_index_answers_and_reports_its_size() {
    let index = SearchIndex::new().unwrap();
    assert!(index.is_empty());
    let p = page(&index, &text("서울"));
    assert_eq!((p.items.len(), p.total, p.next_cursor), (0, 0, None));
    let full = crate::fixture::index();
    assert!(full.memory_bytes() > index.memory_bytes());
    assert_eq!(full.len(), hospitals().len());
    assert_eq!(full.doctor_count(), doctors(&hospitals()).len());
}

#[test]
fn replace_hospital_swaps_the_hospital_and_exactly_its_listed_doctors() {
    let index = index();
    let all = hospitals();
    let snuh = all.iter().find(|h| h.id == id(SNUH)).unwrap().clone();
    let mut kept = doctors(&all)
        .into_iter()
        .filter(|d| d.hospital_id == id(SNUH))
        .collect::<Vec<_>>();
    assert_eq!(kept.len(), 2);
    let dropped = kept.pop().unwrap();
    kept[0].name = "한가람".into();
    let doctors_before = index.doctor_count();
    let mut renamed = snuh.clone();
    renamed.name = "서울대학교병원 본원".into();
    index.replace_hospital(&renamed, &kept).unwrap();
    assert_eq!(index.doctor_count(), doctors_before - 1);
    assert_eq!(index.len(), all.len());
    assert_eq!(ids(&index, &text("본원")), [SNUH]);
    let doctor_ids = |q: &str| -> Vec<uuid::Uuid> {
        index
            .search_doctors(&DoctorQuery {
                text: q.into(),
                ..DoctorQuery::default()
            })
            .unwrap()
            .items
            .iter()
            .map(|d| d.id)
            .collect()
    };
    assert_eq!(doctor_ids("한가람"), [kept[0].id]);
    assert!(!doctor_ids(&dropped.name).contains(&dropped.id));
}

#[test]
fn repeated_searches_are_served_from_the_page_cache_until_a_write() {
    let index = index();
    let queries = [
        "서울대",
        "내과",
        "ㅅㅇㄷ",
        "서울 대학교",
        "samsung",
        "김민준",
        "",
    ];
    // cached pages equal freshly computed ones (the NFD form and other spacing share an entry)
    let first: Vec<_> = queries.iter().map(|q| page(&index, &text(q))).collect();
    let again: Vec<_> = queries.iter().map(|q| page(&index, &text(q))).collect();
    assert_eq!(first, again);
    use unicode_normalization::UnicodeNormalization;
    let nfd: String = "서울 대학교".nfd().collect();
    assert_eq!(
        page(&index, &text(&nfd)),
        page(&index, &text(" 서울   대학교 "))
    );
    index.set_page_cache(0);
    let uncached: Vec<_> = queries.iter().map(|q| page(&index, &text(q))).collect();
    assert_eq!(first, uncached);
    index.set_page_cache(256);

    // every kind of write empties it before returning
    assert!(ids(&index, &text("튼튼")).is_empty());
    let mut kim = hospitals().remove(7);
    kim.name = "김튼튼내과의원".into();
    index.upsert_hospital(&kim).unwrap();
    assert_eq!(ids(&index, &text("튼튼")), [KIM_CLINIC]);
    assert_eq!(ids(&index, &text("삼성서울병원"))[0], SAMSUNG);
    index.replace_hospital(&kim, &[]).unwrap();
    index.delete_hospital(id(SAMSUNG)).unwrap();
    assert!(!ids(&index, &text("삼성서울병원")).contains(&SAMSUNG));

    let q = DoctorQuery {
        text: "김민준".into(),
        ..DoctorQuery::default()
    };
    let before = index.search_doctors(&q).unwrap();
    assert!(!before.items.is_empty());
    assert_eq!(index.search_doctors(&q).unwrap(), before);
    index.delete_doctor(before.items[0].id).unwrap();
    let after = index.search_doctors(&q).unwrap();
    assert!(after.items.iter().all(|d| d.id != before.items[0].id));
    let mut moved = doctors(&hospitals()).remove(0);
    moved.name = "김민준".into();
    index.upsert_doctor(&moved).unwrap();
    assert!(
        index
            .search_doctors(&q)
            .unwrap()
            .items
            .iter()
            .any(|d| d.id == moved.id)
    );
}

#[test]
fn a_cached_page_never_outlives_a_delete_on_other_threads() {
    let index = index();
    let deleted = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let reader = index.clone();
            let deleted = &deleted;
            s.spawn(move || {
                // the same query over and over: almost every answer is a cached page
                for _ in 0..20_000 {
                    let was_deleted = deleted.load(Ordering::SeqCst);
                    let found = ids(&reader, &text("서울")).contains(&SNUH);
                    assert!(!(was_deleted && found));
                    if was_deleted {
                        break;
                    }
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        index.delete_hospital(id(SNUH)).unwrap();
        deleted.store(true, Ordering::SeqCst);
    });
    assert!(!ids(&index, &text("서울")).contains(&SNUH));
}
