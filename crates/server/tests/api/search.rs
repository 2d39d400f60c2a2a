//! Search over HTTP: the Korean behaviours end to end, writes visible at once, change notices
//! between instances, and bad input.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, external_backends, problem, spawn_app, spawn_peer};
use crate::people::people;

/// The generator's first hospitals are real, well-known ones (서울대학교병원, 분당서울대학교병원,
/// 삼성서울병원, 서울성모병원 …); 300 give a realistic small directory.
async fn seeded(app: &TestApp) {
    docde_server::seed::seed_directory(&app.state.store, 300, 1, |_| {})
        .await
        .unwrap();
    app.state.directory.rebuild(&app.state.store).await.unwrap();
}

async fn search(app: &TestApp, query: &str) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/search/hospitals"))
        .query(&[("q", query), ("limit", "50")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

fn names(results: &Value) -> Vec<String> {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn patients_find_hospitals_the_way_they_type_in_korean() {
    let app = spawn_app().await;
    seeded(&app).await;
    let seouldae = names(&search(&app, "서울대").await);
    assert!(
        seouldae.contains(&"서울대학교병원".to_owned())
            && seouldae.contains(&"분당서울대학교병원".to_owned()),
        "{seouldae:?}"
    );
    assert_eq!(
        seouldae[0], "서울대학교병원",
        "the exact name ranks first among 서울대 matches"
    );
    assert!(
        names(&search(&app, "대학교병원").await)
            .iter()
            .all(|n| n.contains("대학교병원") || n.contains("대학교"))
    );
    assert!(
        names(&search(&app, "ㅅㅇㄷ").await).contains(&"서울대학교병원".to_owned()),
        "initial consonants"
    );
    assert!(
        names(&search(&app, "서울 대학교").await).contains(&"서울대학교병원".to_owned()),
        "spacing"
    );
    let nfd: String = "서울대".chars().flat_map(decompose).collect();
    assert_ne!(nfd, "서울대");
    assert_eq!(names(&search(&app, &nfd).await), seouldae, "NFD like NFC");
    assert!(
        names(&search(&app, "samsung").await).contains(&"삼성서울병원".to_owned()),
        "Latin prefix"
    );
    assert!(
        names(&search(&app, "samsnug").await).contains(&"삼성서울병원".to_owned()),
        "one typo"
    );
    assert!(
        !names(&search(&app, "서대").await).contains(&"서울대학교병원".to_owned()),
        "non-adjacent syllables do not match"
    );

    let first = &search(&app, "서울대학교병원").await["items"][0];
    let highlight = &first["highlights"][0];
    assert_eq!(
        (highlight["field"].as_str(), highlight["ranges"][0].clone()),
        (Some("name"), json!([0, 7]))
    );
}

#[tokio::test]
async fn filters_sorting_and_paging_work_through_the_api() {
    let app = spawn_app().await;
    seeded(&app).await;
    let get = |params: Vec<(&'static str, String)>| {
        let request = app
            .client
            .get(app.url("/api/v1/search/hospitals"))
            .query(&params);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let in_jongno = get(vec![("sigungu", "종로구".into()), ("limit", "100".into())]).await;
    assert!(in_jongno["total"].as_u64().unwrap() > 0);
    assert!(
        in_jongno["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["sigungu"] == "종로구")
    );

    let pediatrics = get(vec![
        ("department", "소아청소년과".into()),
        ("limit", "5".into()),
    ])
    .await;
    let by_code = get(vec![
        ("department", "pediatrics".into()),
        ("limit", "5".into()),
    ])
    .await;
    assert_eq!(pediatrics["total"], by_code["total"], "code or Korean name");

    let near = get(vec![
        ("sort", "distance".into()),
        ("lat", "37.5796".into()),
        ("lon", "126.9990".into()),
        ("limit", "10".into()),
    ])
    .await;
    let distances: Vec<f64> = near["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        distances.windows(2).all(|w| w[0] <= w[1]),
        "nearest first: {distances:?}"
    );

    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let first = get(vec![("q", "병원".into())]).await;
    let total = first["total"].as_u64().unwrap() as usize;
    assert_eq!(
        first["total_is_lower_bound"], false,
        "a total under the cap is exact"
    );
    loop {
        let mut params = vec![("q", "병원".to_owned()), ("limit", "7".to_owned())];
        if let Some(c) = &cursor {
            params.push(("cursor", c.clone()));
        }
        let page = get(params).await;
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "no duplicates across pages"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), total, "no gaps across pages");

    let doctors: Value = app
        .client
        .get(app.url("/api/v1/search/doctors"))
        .query(&[("q", "김")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doctors["total"].as_u64().unwrap() > 0);
    assert_eq!(doctors["total_is_lower_bound"], false);
    assert!(doctors["items"][0]["hospital_name"].is_string());
}

#[tokio::test]
async fn a_write_is_searchable_when_it_returns_and_a_delete_is_gone() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/api/v1/hospitals/{}", p.h1);
    let entry = json!({"name": "행복한우리내과의원", "hospital_type": "clinic", "sido": "서울특별시", "sigungu": "마포구",
                       "road_address": "서울특별시 마포구 월드컵로 1", "lat": 37.556, "lon": 126.91, "departments": ["내과"]});
    let r = app
        .client
        .put(app.url(&path))
        .bearer_auth(&p.hadmin.token)
        .json(&entry)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        names(&search(&app, "우리내과").await),
        ["행복한우리내과의원"]
    );

    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        names(&search(&app, "우리내과").await).is_empty(),
        "deleted means gone at once"
    );
}

#[tokio::test]
async fn cached_search_pages_never_outlive_an_edit_or_a_delete() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/api/v1/hospitals/{}", p.h1);
    let mut entry =
        json!({"name": "튼튼바른내과의원", "hospital_type": "clinic", "departments": ["내과"]});
    let put = |entry: Value| {
        app.client
            .put(app.url(&path))
            .bearer_auth(&p.hadmin.token)
            .json(&entry)
            .send()
    };
    assert_eq!(put(entry.clone()).await.unwrap().status(), StatusCode::OK);
    // the same searches twice: the second answer comes from the page cache
    for _ in 0..2 {
        assert_eq!(names(&search(&app, "바른내과").await), ["튼튼바른내과의원"]);
        assert!(names(&search(&app, "내과").await).contains(&"튼튼바른내과의원".to_owned()));
        assert!(names(&search(&app, "새이름").await).is_empty());
    }
    entry["name"] = json!("새이름내과의원");
    assert_eq!(put(entry).await.unwrap().status(), StatusCode::OK);
    assert!(
        names(&search(&app, "바른내과").await).is_empty(),
        "edit seen at once"
    );
    assert_eq!(names(&search(&app, "새이름").await), ["새이름내과의원"]);
    let broad = names(&search(&app, "내과").await);
    assert!(broad.contains(&"새이름내과의원".to_owned()));
    assert!(!broad.contains(&"튼튼바른내과의원".to_owned()));

    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        names(&search(&app, "새이름").await).is_empty(),
        "delete seen at once"
    );
    assert!(!names(&search(&app, "내과").await).contains(&"새이름내과의원".to_owned()));
}

#[tokio::test]
async fn another_instance_stops_serving_a_deleted_hospital_within_a_second() {
    if !external_backends("another_instance_stops_serving_a_deleted_hospital_within_a_second") {
        return;
    }
    let a = spawn_app().await;
    let b = spawn_peer(&a).await;
    let p = people(&a).await;
    let entry = json!({"name": "한마음정형외과의원", "hospital_type": "clinic", "departments": ["정형외과"]});
    let path = format!("/api/v1/hospitals/{}", p.h1);
    a.client
        .put(a.url(&path))
        .bearer_auth(&p.hadmin.token)
        .json(&entry)
        .send()
        .await
        .unwrap();
    wait_for(&b, "한마음", true).await;
    a.client
        .delete(a.url(&path))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    wait_for(&b, "한마음", false).await;
}

async fn wait_for(app: &TestApp, query: &str, present: bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        if names(&search(app, query).await).is_empty() != present {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{query} {} on the other instance within 1 s",
            if present { "appears" } else { "disappears" }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn bad_search_input_is_422_naming_the_parameter() {
    let app = spawn_app().await;
    for (params, field) in [
        (vec![("sort", "distance")], "lat"),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "1000")], "limit"),
        (vec![("cursor", "not-a-cursor")], "cursor"),
        (vec![("department", "점성술과")], "department"),
    ] {
        let r = app
            .client
            .get(app.url("/api/v1/search/hospitals"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{params:?}");
        assert_eq!(problem(r).await["errors"][0]["field"], field, "{params:?}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/search/hospitals?type=spa"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an unknown type is a bad query string"
    );
    assert_eq!(problem(r).await["type"], "urn:docde:problem:bad_request");
}

/// Hangul syllable → conjoining jamo (NFD), without a Unicode crate.
fn decompose(c: char) -> Vec<char> {
    let s = c as u32;
    if !(0xAC00..=0xD7A3).contains(&s) {
        return vec![c];
    }
    let index = s - 0xAC00;
    let (l, v, t) = (
        0x1100 + index / 588,
        0x1161 + (index % 588) / 28,
        index % 28,
    );
    let mut out = vec![char::from_u32(l).unwrap(), char::from_u32(v).unwrap()];
    if t != 0 {
        out.push(char::from_u32(0x11A7 + t).unwrap());
    }
    out
}

#[tokio::test]
async fn an_installation_admin_rebuilds_the_index_from_the_database() {
    let app = spawn_app().await;
    let p = people(&app).await;
    docde_server::seed::seed_directory(&app.state.store, 40, 3, |_| {})
        .await
        .unwrap();
    assert!(
        names(&search(&app, "서울대학교병원").await).is_empty(),
        "rows written behind the index's back are not there yet"
    );
    let r = app
        .client
        .post(app.url("/api/v1/admin/search/reindex"))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(app.url("/api/v1/admin/search/reindex"))
        .bearer_auth(&p.admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        report["hospitals"], 42,
        "40 generated and the two of the test world"
    );
    assert!(names(&search(&app, "서울대학교병원").await).contains(&"서울대학교병원".to_owned()));
}
