//! The e-mail outbox: messages waiting to be sent, and the claims that let several instances
//! share the sending without sending anything twice at once.
//!
//! A message is written with the change that causes it, in the same transaction (see
//! [`enqueue_email!`](crate::enqueue_email)), so a committed sign-up always gets its
//! verification e-mail and a rolled-back one never does. A worker then [`claim_due`]s a batch:
//! each claimed row is leased to that worker until `claimed_until`, and the outcome is recorded
//! with [`mark_sent`] (or [`mark_sent_all`] for a batch's sent messages at once),
//! [`mark_retry`] or [`mark_failed`]. A worker that dies mid-batch loses nothing: its lease
//! expires and another claim picks the rows up. Delivery is therefore at-least-once; a crash
//! between the SMTP server's acceptance and the mark sends the message again (with the same
//! Message-ID, which the sender derives from the row id).
//!
//! Bodies hold verification codes, so they are cleared as soon as a row leaves `pending`, and
//! failures are recorded as a category, never as a server's message. This module does not send
//! anything and knows nothing about SMTP.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Backend, Store, StoreError, with_reader, with_writer};

/// Lets [`enqueue_email!`](crate::enqueue_email) name sqlx from any crate that calls it.
#[doc(hidden)]
pub use sqlx as __sqlx;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub to: String,
    pub subject: String,
    /// Plain text (UTF-8).
    pub body: String,
}

/// A message to a user, addressed when it is queued: the recipient is read from `users` in
/// the same statement that queues it, so the caller needs no read of its own (the booking
/// hot path queues one per booking). Nothing is queued for a deleted account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    /// Plain text (UTF-8).
    pub body: String,
}

/// A claimed message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Delivery attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// The insert behind [`enqueue_email!`](crate::enqueue_email). Parameters: `$1` id (UUID
/// text), `$2` recipient, `$3` subject, `$4` body, `$5` now (creation time, and the time
/// the message is first due).
pub const INSERT_SQL: &str = "INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)";

/// Queues `$email` (`&NewEmail`) under `$id` (`Uuid`) at `$now` (`DateTime<Utc>`) on
/// `$executor`, and returns the query's future (await it; it resolves to sqlx's result).
///
/// This is how a repository sends e-mail as part of its own transaction: inside
/// [`with_writer!`](crate::with_writer) the body is expanded once per backend, so the same
/// line works on a SQLite and a PostgreSQL transaction.
///
/// ```no_run
/// # async fn example(store: &docde_store::Store, email: &docde_store::outbox::NewEmail) -> Result<(), docde_store::StoreError> {
/// use docde_store::with_writer;
/// let (id, now) = (uuid::Uuid::now_v7(), chrono::Utc::now());
/// with_writer!(store, pool => async {
///     let mut tx = pool.begin().await?;
///     // … insert the account and its verification code …
///     docde_store::enqueue_email!(&mut *tx, email, id, now).await?;
///     tx.commit().await?;
///     Ok::<_, docde_store::StoreError>(())
/// }.await)
/// # }
/// ```
///
/// Nothing is sent until a worker looks: after the commit, the caller wakes the workers
/// (in the server, `mail::wake(&state)`, i.e. `bus.wake("email")`); otherwise the message
/// waits for their next poll.
#[macro_export]
macro_rules! enqueue_email {
    ($executor:expr, $email:expr, $id:expr, $now:expr) => {{
        let email: &$crate::outbox::NewEmail = $email;
        let id: $crate::outbox::__sqlx::types::Uuid = $id;
        // Typed so that no other time type can slip in: on SQLite the stored text must have
        // the one format that compares in time order.
        let now: $crate::outbox::__sqlx::types::chrono::DateTime<
            $crate::outbox::__sqlx::types::chrono::Utc,
        > = $now;
        $crate::outbox::__sqlx::query($crate::outbox::INSERT_SQL)
            // Text, not the native UUID type, so both backends store the same thing.
            .bind(id.to_string())
            .bind(email.to.as_str())
            .bind(email.subject.as_str())
            .bind(email.body.as_str())
            .bind(now)
            .execute($executor)
    }};
}

/// The insert behind [`enqueue_letter!`](crate::enqueue_letter): as [`INSERT_SQL`], with `$2`
/// the user id whose address the message goes to.
pub const INSERT_LETTER_SQL: &str = "INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     SELECT $1, email, $3, $4, 'pending', 0, $5, $5 FROM users WHERE id = $2 AND status <> 'deleted'";

/// Queues `$letter` (`&Letter`) to user `$user_id` (`Uuid`) under `$id` at `$now` on
/// `$executor`, and returns the query's future.
#[macro_export]
macro_rules! enqueue_letter {
    ($executor:expr, $letter:expr, $user_id:expr, $id:expr, $now:expr) => {{
        let letter: &$crate::outbox::Letter = $letter;
        let user_id: $crate::outbox::__sqlx::types::Uuid = $user_id;
        let id: $crate::outbox::__sqlx::types::Uuid = $id;
        let now: $crate::outbox::__sqlx::types::chrono::DateTime<
            $crate::outbox::__sqlx::types::chrono::Utc,
        > = $now;
        $crate::outbox::__sqlx::query($crate::outbox::INSERT_LETTER_SQL)
            .bind(id.to_string())
            .bind(user_id.to_string())
            .bind(letter.subject.as_str())
            .bind(letter.body.as_str())
            .bind(now)
            .execute($executor)
    }};
}

/// Queues a message on its own (outside any other transaction) and returns its id.
pub async fn enqueue(
    store: &Store,
    email: &NewEmail,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    with_writer!(store, pool => crate::enqueue_email!(pool, email, id, now)
        .await
        .map(|_| ())?);
    Ok(id)
}

// The claim is one statement, so it is atomic on its own. On PostgreSQL, `SKIP LOCKED` makes
// concurrent claimers take disjoint rows instead of queueing behind each other, and a row
// whose lock is released after our snapshot is re-checked against `claimed_until` before it
// is updated. SQLite has a single writer, so claims cannot overlap and need no locking clause.
const CLAIM_POSTGRES: &str = "UPDATE email_outbox SET claimed_until = $2 \
     WHERE id IN (SELECT id FROM email_outbox \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until <= $1) \
         ORDER BY next_attempt_at, id LIMIT $3 \
         FOR UPDATE SKIP LOCKED) \
     RETURNING id, recipient, subject, body, attempts, created_at";
const CLAIM_SQLITE: &str = "UPDATE email_outbox SET claimed_until = $2 \
     WHERE id IN (SELECT id FROM email_outbox \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until <= $1) \
         ORDER BY next_attempt_at, id LIMIT $3) \
     RETURNING id, recipient, subject, body, attempts, created_at";

type ClaimedRow = (String, String, String, String, i32, DateTime<Utc>);

/// Claims up to `limit` messages that are due at `now` and not claimed by anyone else, for
/// `lease`. Until the lease ends no other claim returns them, so the caller must record an
/// outcome within it; after it they are claimable again (the claimer is presumed dead).
/// Oldest first.
pub async fn claim_due(
    store: &Store,
    limit: u32,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxEmail>, StoreError> {
    let until = now
        + chrono::Duration::from_std(lease)
            .map_err(|e| StoreError::Other(sqlx::Error::Encode(e.into())))?;
    let sql = match store.backend() {
        Backend::Sqlite { .. } => CLAIM_SQLITE,
        Backend::Postgres(_) => CLAIM_POSTGRES,
    };
    let rows: Vec<ClaimedRow> = with_writer!(store, pool => sqlx::query_as(sql)
        .bind(now)
        .bind(until)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
    outbox_emails(rows)
}

/// The messages [`claim_due`] would claim, oldest first, without claiming them: no write.
///
/// For a sender that alone serves the database and whose sends are idempotent by message id:
/// the server's outbox directory on SQLite (one process per database file; a message written
/// twice, after a crash between the write and [`mark_sent_all`], is listed once). There the
/// claim was a second rewrite of every message on the single writer, which a stream of
/// bookings (a letter each) queued behind. Messages another sender claimed stay out.
pub async fn peek_due(
    store: &Store,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxEmail>, StoreError> {
    let rows: Vec<ClaimedRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT id, recipient, subject, body, attempts, created_at FROM email_outbox \
         WHERE status = 'pending' AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until <= $1) \
         ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?);
    outbox_emails(rows)
}

/// The rows as messages, oldest first: callers send in that order, and RETURNING gives none.
fn outbox_emails(rows: Vec<ClaimedRow>) -> Result<Vec<OutboxEmail>, StoreError> {
    let mut emails = rows
        .into_iter()
        .map(|(id, to, subject, body, attempts, created_at)| {
            Ok(OutboxEmail {
                id: Uuid::parse_str(&id)
                    .map_err(|e| StoreError::Other(sqlx::Error::Decode(e.into())))?,
                to,
                subject,
                body,
                attempts: u32::try_from(attempts).unwrap_or(0),
                created_at,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    emails.sort_by_key(|e| (e.created_at, e.id));
    Ok(emails)
}

/// [`mark_sent`] for many messages in one statement (one commit, where a commit each was
/// the dispatcher's largest cost under a stream of bookings: each one waits for the single
/// SQLite writer and its sync). Returns how many pending messages were changed.
pub async fn mark_sent_all(
    store: &Store,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let json = crate::accounts::json_param(ids)?;
    let sql = match store.backend() {
        Backend::Sqlite { .. } => MARK_SENT_ALL_SQLITE,
        Backend::Postgres(_) => MARK_SENT_ALL_POSTGRES,
    };
    let changed = with_writer!(store, pool => sqlx::query(sql)
        .bind(&json)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(changed)
}

/// `+status` keeps SQLite from answering `status = 'pending'` with `email_outbox_due`: that
/// index walks every pending message (tens of thousands during a rush, 23 ms a statement on
/// the one writer) where the named ids are a primary-key lookup each.
const MARK_SENT_ALL_SQLITE: &str = "UPDATE email_outbox \
     SET status = 'sent', body = NULL, sent_at = $2, attempts = attempts + 1, \
         claimed_until = NULL, last_error = NULL \
     WHERE id IN (SELECT value FROM json_each($1)) AND +status = 'pending'";
const MARK_SENT_ALL_POSTGRES: &str = "UPDATE email_outbox \
     SET status = 'sent', body = NULL, sent_at = $2, attempts = attempts + 1, \
         claimed_until = NULL, last_error = NULL \
     WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND status = 'pending'";

/// Records that the message was accepted for delivery and forgets its body. Returns whether
/// a pending message was changed (false if it was already sent or given up).
pub async fn mark_sent(store: &Store, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = with_writer!(store, pool => sqlx::query(
        "UPDATE email_outbox
         SET status = 'sent', body = NULL, sent_at = $2, attempts = attempts + 1,
             claimed_until = NULL, last_error = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Records a failed attempt worth repeating (`error_kind` is a category such as
/// `"connection"`, never a server message) and releases the claim so the message is claimed
/// again at `next_attempt_at`. Returns whether a pending message was changed.
pub async fn mark_retry(
    store: &Store,
    id: Uuid,
    error_kind: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = with_writer!(store, pool => sqlx::query(
        "UPDATE email_outbox
         SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, claimed_until = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(error_kind)
    .bind(next_attempt_at)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Gives the message up (the address is refused, or attempts are exhausted) and forgets its
/// body. Returns whether a pending message was changed.
pub async fn mark_failed(store: &Store, id: Uuid, error_kind: &str) -> Result<bool, StoreError> {
    let changed = with_writer!(store, pool => sqlx::query(
        "UPDATE email_outbox
         SET status = 'failed', body = NULL, attempts = attempts + 1, last_error = $2,
             claimed_until = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(error_kind)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Messages not yet sent nor given up (claimed or not, due or not), for the metrics gauge.
pub async fn pending_count(store: &Store) -> Result<i64, StoreError> {
    Ok(with_reader!(store, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_outbox WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn marking_a_round_sent_looks_its_messages_up_by_id_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&crate::DatabaseConfig {
            url: format!("sqlite://{}", dir.path().join("docde.db").display()),
            schema: None,
            max_connections: 2,
            acquire_timeout: Duration::from_secs(30),
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let Backend::Sqlite { writer, .. } = store.backend() else {
            unreachable!("a sqlite:// store")
        };
        let sql = format!("EXPLAIN QUERY PLAN {MARK_SENT_ALL_SQLITE}");
        let steps: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind("[]")
            .bind(Utc::now())
            .fetch_all(writer)
            .await
            .unwrap();
        let plan: Vec<String> = steps.into_iter().map(|step| step.3).collect();
        let plan = plan.join(" | ");
        assert!(
            plan.contains("sqlite_autoindex_email_outbox_1 (id=?)")
                && !plan.contains("email_outbox_due"),
            "{plan}"
        );
    }
}
