//! Bearer tokens' sessions are checked many to a read: each request still gets the answer for
//! its own session, and a revocation committed before a request is always seen by it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::people::{get, post, quick_patient};

#[tokio::test]
async fn requests_arriving_together_each_get_their_own_sessions_answer() {
    let app = spawn_app().await;
    let mut live = Vec::new();
    let mut revoked = Vec::new();
    for i in 0..12 {
        let p = quick_patient(&app).await;
        if i % 3 == 0 {
            let out = post(&app, "/api/v1/auth/logout", Some(&p.token), json!({})).await;
            assert_eq!(out.status(), StatusCode::NO_CONTENT);
            revoked.push(p.token);
        } else {
            live.push(p.token);
        }
    }
    // Interleaved and all at once, so the checker answers them from shared reads.
    let asks: Vec<(String, bool)> = (0..20)
        .flat_map(|_| {
            live.iter()
                .map(|t| (t.clone(), true))
                .chain(revoked.iter().map(|t| (t.clone(), false)))
                .collect::<Vec<_>>()
        })
        .collect();
    let answers = futures::future::join_all(asks.iter().map(|(token, _)| {
        let app = &app;
        async move { get(app, "/api/v1/users/me", token).await.status() }
    }))
    .await;
    for ((_, should_live), status) in asks.iter().zip(answers) {
        let expected = if *should_live {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected);
    }
}

#[tokio::test]
async fn a_logout_stops_the_very_next_request() {
    let app = spawn_app().await;
    for _ in 0..10 {
        let p = quick_patient(&app).await;
        assert_eq!(
            get(&app, "/api/v1/users/me", &p.token).await.status(),
            StatusCode::OK
        );
        let out = post(&app, "/api/v1/auth/logout", Some(&p.token), json!({})).await;
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            get(&app, "/api/v1/users/me", &p.token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}
