//! `smtp.*`: outgoing e-mail.

use serde::{Deserialize, Serialize};

/// Outgoing e-mail. Without `host`, messages are written to `DATA_DIR/outbox/` instead
/// (listed by `docde outbox`), so every flow works without a mail server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `From:` header, e.g. `DocDe <no-reply@hospital.example>`.
    pub from: String,
    pub tls: SmtpTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or the test server.
    None,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: 587,
            username: None,
            password: None,
            from: "DocDe <no-reply@docde.invalid>".into(),
            tls: SmtpTls::Starttls,
        }
    }
}
