use super::*;

#[test]
fn accept_language_prefers_the_first_supported_language() {
    assert_eq!(
        Lang::from_accept_language(Some("ko-KR,ko;q=0.9,en;q=0.8")),
        Lang::Ko
    );
    assert_eq!(
        Lang::from_accept_language(Some("fr, en-US;q=0.5, ko;q=0.2")),
        Lang::En
    );
    assert_eq!(Lang::from_accept_language(Some("de")), Lang::En);
    assert_eq!(Lang::from_accept_language(None), Lang::En);
}

#[test]
fn every_status_code_pairs_with_its_problem_code() {
    let e = ApiError::MalformedJson {
        detail: "x".into(),
        line: 2,
        column: 5,
    };
    let p = e.to_problem();
    assert_eq!(
        (p.status, p.code.as_str(), p.line, p.column),
        (400, "malformed_json", Some(2), Some(5))
    );
    assert_eq!(p.type_uri, "urn:docde:problem:malformed_json");
    let p = ApiError::Internal(anyhow::anyhow!("secret detail")).to_problem();
    assert_eq!(
        (p.status, p.detail),
        (500, None),
        "internal details never reach the body"
    );
}

#[test]
fn a_database_outage_inside_a_wrapped_error_is_a_503_and_other_errors_a_500() {
    let outage = anyhow::Error::from(docde_store::StoreError::Unavailable(
        sqlx::Error::PoolTimedOut,
    ))
    .context("loading the doctor's availability");
    let p = ApiError::from(outage).to_problem();
    assert_eq!((p.status, p.code.as_str()), (503, "service_unavailable"));
    let p = ApiError::from(anyhow::anyhow!("stored schedule invalid")).to_problem();
    assert_eq!((p.status, p.code.as_str()), (500, "internal"));
}
