//! How a message leaves: through the configured SMTP relay, or into the on-disk outbox when
//! `smtp.host` is unset. Failures are classified so the dispatcher knows whether to retry;
//! they carry a category only, because SMTP servers echo addresses in their replies.

use std::path::PathBuf;
use std::time::Duration;

use docde_store::outbox::OutboxEmail;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Config, SmtpTls};
use crate::mail::outbox_dir::{self, StoredEmail};

/// Longest one SMTP conversation may take. The dispatcher's lease must outlast it, so that a
/// message still being sent is never claimed by another instance.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay (with a connection pool).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Files in this directory (see [`outbox_dir`](crate::mail::outbox_dir)).
    Directory(PathBuf),
}

/// Why a message was not sent. The string is a category (`connection`, `timeout`,
/// `smtp_421`, `bad_address`, …) that is safe to log and store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Might work later: the server was unreachable or slow, or answered 4xx.
    #[error("temporary e-mail failure ({0})")]
    Transient(String),
    /// Will never work: the address is malformed or the server answered 5xx.
    #[error("permanent e-mail failure ({0})")]
    Permanent(String),
}

impl SendError {
    pub fn kind(&self) -> &str {
        match self {
            SendError::Transient(kind) | SendError::Permanent(kind) => kind,
        }
    }
}

impl Transport {
    /// The relay named by `smtp.*`, or the directory `DATA_DIR/outbox` without `smtp.host`.
    /// Connects lazily: an unreachable relay shows up as transient send failures, not here.
    pub fn from_config(config: &Config) -> Result<Self, lettre::transport::smtp::Error> {
        let smtp = &config.smtp;
        let Some(host) = smtp.host.as_deref() else {
            return Ok(Transport::Directory(outbox_dir::outbox_dir(config)));
        };
        let builder = match smtp.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
        if let Some(username) = &smtp.username {
            let password = smtp.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// `"smtp"` or `"directory"`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Smtp(_) => "smtp",
            Transport::Directory(_) => "directory",
        }
    }

    /// Whether [`Transport::send_round`] sends a round at once (the directory).
    pub fn sends_rounds(&self) -> bool {
        matches!(self, Transport::Directory(_))
    }

    /// Sends `email` from `from`. Both transports refuse an unparseable recipient the same
    /// way, so a bad address surfaces on a laptop as it would in production.
    pub async fn send(&self, from: &Mailbox, email: &OutboxEmail) -> Result<(), SendError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| SendError::Permanent("bad_address".into()))?;
        match self {
            Transport::Smtp(smtp) => {
                let message = message(from, to, email)?;
                smtp.send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| classify(&e))
            }
            Transport::Directory(dir) => {
                write_round(dir.clone(), vec![stored(from, &to, email)]).await
            }
        }
    }

    /// Sends a round's `emails` together where the transport can: the directory writes them
    /// as one file with one `fsync`. `None` from the relay, which the dispatcher drives message
    /// by message (each SMTP conversation must start inside the claim's lease). Outcomes are in
    /// the order of `emails`.
    pub async fn send_round(
        &self,
        from: &Mailbox,
        emails: &[OutboxEmail],
    ) -> Option<Vec<Result<(), SendError>>> {
        let Transport::Directory(dir) = self else {
            return None;
        };
        let mut outcomes = Vec::with_capacity(emails.len());
        let mut round = Vec::with_capacity(emails.len());
        for email in emails {
            match email.to.parse::<Mailbox>() {
                Ok(to) => {
                    round.push(stored(from, &to, email));
                    outcomes.push(Ok(()));
                }
                Err(_) => outcomes.push(Err(SendError::Permanent("bad_address".into()))),
            }
        }
        if round.is_empty() {
            return Some(outcomes);
        }
        if let Err(error) = write_round(dir.clone(), round).await {
            for outcome in outcomes.iter_mut().filter(|o| o.is_ok()) {
                *outcome = Err(error.clone());
            }
        }
        Some(outcomes)
    }
}

/// `email` as the directory stores it.
fn stored(from: &Mailbox, to: &Mailbox, email: &OutboxEmail) -> StoredEmail {
    StoredEmail {
        id: email.id,
        to: to.to_string(),
        from: from.to_string(),
        subject: email.subject.clone(),
        body: email.body.clone(),
        created_at: email.created_at,
    }
}

/// Writes `round` into `dir` off the async threads.
async fn write_round(dir: PathBuf, round: Vec<StoredEmail>) -> Result<(), SendError> {
    tokio::task::spawn_blocking(move || outbox_dir::write_round(&dir, &round))
        .await
        .map_err(|_| SendError::Transient("io".into()))?
        // A full disk or a permission problem may be fixed; keep the messages.
        .map_err(|_| SendError::Transient("io".into()))
}

/// The MIME message: UTF-8 plain text, with a Message-ID derived from the outbox id so that
/// a message sent twice (after a crash) is recognisable as one by mail clients.
fn message(from: &Mailbox, to: Mailbox, email: &OutboxEmail) -> Result<Message, SendError> {
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.as_str())
        .message_id(Some(format!("<{}@{}>", email.id, from.email.domain())))
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|_| SendError::Permanent("message".into()))
}

/// 4xx and every failure to talk to the server are worth retrying; 5xx and a message the
/// client itself refuses are not.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = error.status() {
        let kind = format!("smtp_{code}");
        return if error.is_permanent() {
            SendError::Permanent(kind)
        } else {
            SendError::Transient(kind)
        };
    }
    if error.is_client() {
        return SendError::Permanent("client".into());
    }
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_tls() {
        "tls"
    } else if error.is_response() {
        "protocol"
    } else {
        "connection"
    };
    SendError::Transient(kind.into())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    fn outbox_email(to: &str) -> OutboxEmail {
        OutboxEmail {
            id: Uuid::now_v7(),
            to: to.into(),
            subject: "인증 코드".into(),
            body: "123456".into(),
            attempts: 0,
            created_at: Utc::now(),
        }
    }

    fn from() -> Mailbox {
        "DocDe <no-reply@docde.invalid>".parse().unwrap()
    }

    #[test]
    fn without_an_smtp_host_messages_go_to_the_data_directory() {
        let config = Config::default();
        match Transport::from_config(&config).unwrap() {
            Transport::Directory(dir) => assert_eq!(dir, config.data_dir.join("outbox")),
            Transport::Smtp(_) => panic!("expected the directory transport"),
        }
    }

    // The connection pool starts a task, so this needs a runtime (as the dispatcher has).
    #[tokio::test]
    async fn an_smtp_host_selects_the_relay_for_every_tls_mode() {
        for tls in [SmtpTls::Starttls, SmtpTls::Tls, SmtpTls::None] {
            let mut config = Config::default();
            config.smtp.host = Some("smtp.hospital.example".into());
            config.smtp.tls = tls;
            config.smtp.username = Some("docde".into());
            let transport = Transport::from_config(&config).unwrap();
            assert_eq!(transport.kind(), "smtp", "{tls:?}");
        }
    }

    #[tokio::test]
    async fn an_unparseable_recipient_is_a_permanent_failure_on_either_transport() {
        let dir = tempfile::tempdir().unwrap();
        let transport = Transport::Directory(dir.path().to_owned());
        let error = transport
            .send(&from(), &outbox_email("not an address"))
            .await;
        assert_eq!(error, Err(SendError::Permanent("bad_address".into())));
        assert!(
            outbox_dir::list_directory(dir.path()).unwrap().is_empty(),
            "nothing written"
        );
    }

    #[tokio::test]
    async fn a_round_goes_to_the_directory_as_one_file_and_a_bad_address_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let transport = Transport::Directory(dir.path().to_owned());
        let round = [
            outbox_email("first@example.com"),
            outbox_email("not an address"),
            outbox_email("third@example.com"),
        ];
        let outcomes = transport.send_round(&from(), &round).await;
        assert_eq!(
            outcomes,
            Some(vec![
                Ok(()),
                Err(SendError::Permanent("bad_address".into())),
                Ok(())
            ])
        );
        let written: Vec<Uuid> = outbox_dir::list_directory(dir.path())
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(written, [round[0].id, round[2].id]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_written_keeps_the_round_for_a_retry() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the directory should be.
        let blocked = dir.path().join("outbox");
        std::fs::write(&blocked, "").unwrap();
        let transport = Transport::Directory(blocked);
        let round = [outbox_email("a@example.com"), outbox_email("bad")];
        let outcomes = transport.send_round(&from(), &round).await;
        assert_eq!(
            outcomes,
            Some(vec![
                Err(SendError::Transient("io".into())),
                Err(SendError::Permanent("bad_address".into())),
            ])
        );
    }

    #[tokio::test]
    async fn the_relay_sends_message_by_message() {
        let mut config = Config::default();
        config.smtp.host = Some("smtp.hospital.example".into());
        let transport = Transport::from_config(&config).unwrap();
        assert!(
            transport
                .send_round(&from(), &[outbox_email("a@example.com")])
                .await
                .is_none()
        );
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_a_transient_failure() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = Config::default();
        config.smtp.host = Some("127.0.0.1".into());
        config.smtp.port = port;
        config.smtp.tls = SmtpTls::None;
        let transport = Transport::from_config(&config).unwrap();

        let error = transport
            .send(&from(), &outbox_email("patient@example.com"))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    }

    #[test]
    fn the_message_is_utf8_plain_text_with_a_message_id_from_the_outbox_id() {
        let email = outbox_email("patient@example.com");
        let to = email.to.parse().unwrap();
        let formatted = String::from_utf8(message(&from(), to, &email).unwrap().formatted())
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            formatted.contains("content-type: text/plain; charset=utf-8"),
            "{formatted}"
        );
        assert!(
            formatted.contains(&format!("message-id: <{}@docde.invalid>", email.id)),
            "{formatted}"
        );
    }
}
