//! The on-disk outbox: where messages go when no SMTP server is configured, so that sign-up
//! and every other flow that sends e-mail works on a laptop; `docde outbox` lists it.
//!
//! A dispatcher round's messages are one JSON file, `<created_at>_<id>.json` after the round's
//! first message (an array of messages; files of one message as an object, as earlier versions
//! wrote them, are read too), so names sort oldest first. One file and one `fsync` per round
//! rather than per message: under a stream of bookings (a letter each) creating a file per
//! letter cost the server more CPU than anything but SQLite and HTTP. A message written again
//! (a retry after a crash, maybe in another round) is listed once; a round written again with
//! the same first message overwrites its file. Files are written whole and then renamed into
//! place, so a reader never sees half a round. The directory is private to the service's user
//! (0700, files 0600): the bodies hold verification codes.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;

/// One message as written to the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEmail {
    pub id: Uuid,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// `DATA_DIR/outbox`: where the directory transport writes.
pub fn outbox_dir(config: &Config) -> PathBuf {
    config.data_dir.join("outbox")
}

/// The file name of `email`: creation time first, so names sort oldest first.
pub fn file_name(email: &StoredEmail) -> String {
    format!(
        "{}_{}.json",
        email.created_at.format("%Y%m%dT%H%M%S%.6fZ"),
        email.id
    )
}

/// Writes `email` into `dir` (created if missing). Blocking: call it off the async threads.
pub fn write(dir: &Path, email: &StoredEmail) -> io::Result<()> {
    write_round(dir, std::slice::from_ref(email))
}

/// Writes a round's `emails` into `dir` (created if missing) as one file, named after the
/// first; nothing for an empty round. Blocking: call it off the async threads.
pub fn write_round(dir: &Path, emails: &[StoredEmail]) -> io::Result<()> {
    let Some(first) = emails.first() else {
        return Ok(());
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let name = file_name(first);
    // A dot file is skipped by `list_directory`, so the listing never shows a partial write.
    let partial = dir.join(format!(".{name}.partial"));
    let json = serde_json::to_vec_pretty(emails).map_err(io::Error::other)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(&json)?;
    file.sync_all()?;
    fs::rename(&partial, dir.join(name))
}

/// What a file holds: a round (an array), or one message (files of earlier versions).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Round(Vec<StoredEmail>),
    One(StoredEmail),
}

/// Every message in `dir`, oldest first, each once. A missing directory is an empty outbox; a
/// file that is not a message is an error naming it.
pub fn list_directory(dir: &Path) -> io::Result<Vec<StoredEmail>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut emails = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_message = path.extension().is_some_and(|ext| ext == "json")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !is_message {
            continue;
        }
        let stored: Stored = serde_json::from_slice(&fs::read(&path)?).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        match stored {
            Stored::Round(round) => emails.extend(round),
            Stored::One(email) => emails.push(email),
        }
    }
    emails.sort_by_key(|e| (e.created_at, e.id));
    // A message sent again after a crash may sit in two rounds' files.
    emails.dedup_by_key(|e| e.id);
    Ok(emails)
}

/// The listing `docde outbox` prints: per message a line with time, recipient and subject,
/// then the body indented.
pub fn render_listing(emails: &[StoredEmail]) -> String {
    let mut out = String::new();
    for email in emails {
        out.push_str(&format!(
            "{}  {}  {}\n",
            email.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            email.to,
            email.subject
        ));
        for line in email.body.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use chrono::TimeZone;

    use super::*;

    fn email(second: u32, subject: &str) -> StoredEmail {
        StoredEmail {
            id: Uuid::now_v7(),
            to: "patient@example.com".into(),
            from: "DocDe <no-reply@docde.invalid>".into(),
            subject: subject.into(),
            body: "인증 코드: 123456\n10분 안에 입력하세요.".into(),
            created_at: Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, second).unwrap(),
        }
    }

    #[test]
    fn written_messages_are_listed_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let (older, newer) = (email(1, "first"), email(2, "second"));
        write(&outbox, &newer).unwrap();
        write(&outbox, &older).unwrap();

        assert_eq!(list_directory(&outbox).unwrap(), [older, newer]);
    }

    #[test]
    fn writing_the_same_message_twice_keeps_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let message = email(1, "once");
        write(dir.path(), &message).unwrap();
        write(dir.path(), &message).unwrap();

        assert_eq!(list_directory(dir.path()).unwrap(), [message]);
    }

    #[test]
    fn a_round_is_one_file_and_its_messages_are_listed_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let round = [email(1, "first"), email(2, "second"), email(3, "third")];
        write_round(dir.path(), &round).unwrap();

        let files = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 1);
        assert_eq!(list_directory(dir.path()).unwrap(), round);
    }

    #[test]
    fn a_message_written_again_in_another_round_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (email(1, "a"), email(2, "b"), email(3, "c"));
        write_round(dir.path(), &[a.clone(), b.clone()]).unwrap();
        // After a crash before the round was marked sent, b is claimed again with c.
        write_round(dir.path(), &[b.clone(), c.clone()]).unwrap();

        assert_eq!(list_directory(dir.path()).unwrap(), [a, b, c]);
    }

    #[test]
    fn a_message_file_of_an_earlier_version_is_listed_with_the_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let (older, newer) = (email(1, "one object"), email(2, "in a round"));
        fs::write(
            dir.path().join(file_name(&older)),
            serde_json::to_vec(&older).unwrap(),
        )
        .unwrap();
        write_round(dir.path(), std::slice::from_ref(&newer)).unwrap();

        assert_eq!(list_directory(dir.path()).unwrap(), [older, newer]);
    }

    #[test]
    fn the_outbox_is_private_to_the_service_user() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let message = email(1, "private");
        write(&outbox, &message).unwrap();

        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&outbox), 0o700);
        assert_eq!(mode(&outbox.join(file_name(&message))), 0o600);
    }

    #[test]
    fn a_missing_directory_is_an_empty_outbox() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            list_directory(&dir.path().join("nothing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_file_that_is_not_a_message_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("junk.json"), "{").unwrap();
        let error = list_directory(dir.path()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("junk.json"), "{error}");
    }

    #[test]
    fn the_listing_shows_time_recipient_subject_and_the_indented_body() {
        let listing = render_listing(&[email(5, "DocDe 인증 코드")]);
        assert_eq!(
            listing,
            "2025-03-01 09:00:05 UTC  patient@example.com  DocDe 인증 코드\n\
             \x20   인증 코드: 123456\n\
             \x20   10분 안에 입력하세요.\n\n"
        );
    }
}
