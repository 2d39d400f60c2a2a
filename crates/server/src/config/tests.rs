//! Loading, validation and redaction of the whole configuration.

use super::*;

#[test]
fn environment_names_map_onto_sections() {
    assert_eq!(env_key("DATABASE_URL"), "database.url");
    assert_eq!(env_key("HTTP_BODY_LIMIT_BYTES"), "http.body_limit_bytes");
    assert_eq!(env_key("DATA_DIR"), "data_dir");
    assert_eq!(env_key("LISTEN"), "listen");
}

#[test]
fn every_default_key_is_known() {
    let keys = known_keys();
    for k in [
        "listen",
        "data_dir",
        "database.url",
        "redis.url",
        "http.shutdown_grace_ms",
        "log.format",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
}

#[test]
fn the_default_escalation_webhook_is_checked_and_shown_without_its_secret() {
    let mut config = Config::default();
    config.ward.escalation_webhook_url = Some("ftp://chat.example/hooks/x".into());
    assert!(config.validate().is_err());
    config.ward.escalation_webhook_url =
        Some("https://bot:pw@chat.example:8443/hooks/s3cret".into());
    assert!(config.validate().is_ok());
    let shown = config.redacted()["ward"]["escalation_webhook_url"].to_string();
    assert_eq!(shown, "\"https://chat.example:8443/***\"");
}

#[test]
fn an_error_report_webhook_must_be_http_or_https_and_its_secret_path_is_redacted() {
    let mut config = Config::default();
    for refused in [
        "ftp://chat.example/hooks/x",
        "mailto:it@hospital.example",
        "chat",
    ] {
        config.reports.webhook_url = Some(refused.into());
        assert!(config.validate().is_err(), "{refused} is refused at start");
    }
    config.reports.webhook_url = Some("https://chat.example/hooks/s3cret".into());
    assert!(config.validate().is_ok());
    let shown = config.redacted()["reports"]["webhook_url"].to_string();
    assert_eq!(shown, "\"https://chat.example/***\"");
    config.reports.webhook_url = Some("http://chat.internal:8065/hooks/s3cret".into());
    assert!(config.validate().is_ok());
    let shown = config.redacted()["reports"]["webhook_url"].to_string();
    assert_eq!(shown, "\"http://chat.internal:8065/***\"");
}

#[test]
fn a_ward_retention_of_zero_days_is_refused_at_start() {
    let mut config = Config::default();
    config.ward.event_retention_days = 0;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("ward.event_retention_days"), "{err}");
    config.ward.event_retention_days = 1;
    assert!(config.validate().is_ok());
}

#[test]
fn a_rollup_retention_shorter_than_the_raw_retention_is_refused_at_start() {
    let mut config = Config::default();
    assert_eq!(config.ward.rollup_retention_days, 365);
    config.ward.raw_retention_days = 30;
    config.ward.rollup_retention_days = 29;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("ward.rollup_retention_days"), "{err}");
    config.ward.rollup_retention_days = 30;
    assert!(
        config.validate().is_ok(),
        "as long as the raw samples are kept is enough"
    );
}
