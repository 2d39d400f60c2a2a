//! Secrets in URLs, hidden for `Config::redacted`.

pub(super) fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// `http://host/hooks/secret` → `http://host/***`.
pub(super) fn redact_webhook(raw: &str) -> String {
    match url::Url::parse(raw) {
        // Host and port only: a password in the URL is as secret as the path.
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}/***", url.scheme()),
            (Some(host), None) => format!("{}://{host}/***", url.scheme()),
            (None, _) => "***".into(),
        },
        Err(_) => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
