//! Reviews of completed visits, hospital replies, abuse reports, and rating summaries.
//!
//! A visit has at most one live review: writing is a conditional insert on a partial unique
//! index (no row back means the visit already has one), and an edit updates that same row,
//! so an edit can never leave a duplicate behind (the predecessor's bug). Edits and deletes
//! are conditional on the author. Summaries are computed from the live rows through an index
//! on (subject, stars), so they are always exactly what the lists show.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// Why a review write was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the visit is not completed")]
    VisitNotCompleted,
    #[error("the visit already has a review")]
    ReviewExists,
    #[error("already reported by this user")]
    AlreadyReported,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReviewError {
    fn from(e: sqlx::Error) -> Self {
        ReviewError::Store(e.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    pub stars: u8,
    pub body: String,
    pub reply: Option<String>,
    pub replied_by: Option<Uuid>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A review to write for a completed appointment.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    pub stars: u8,
    pub body: String,
    pub now: DateTime<Utc>,
}

/// Whose reviews: a hospital's or a doctor's.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Hospital(Uuid),
    Doctor(Uuid),
}

impl Subject {
    fn column_and_id(self) -> (&'static str, String) {
        match self {
            Subject::Hospital(h) => ("hospital_id", h.to_string()),
            Subject::Doctor(d) => ("doctor_id", d.to_string()),
        }
    }
}

/// Average, count and distribution of a subject's live reviews.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RatingSummary {
    pub count: u64,
    /// `None` without reviews.
    pub average: Option<f64>,
    /// Reviews with 1, 2, 3, 4 and 5 stars.
    pub distribution: [u64; 5],
}

/// An abuse report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewReport {
    pub id: Uuid,
    pub review_id: Uuid,
    pub hospital_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, appointment_id, hospital_id, doctor_id, patient_id, stars, body, \
     reply, replied_by, replied_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    appointment_id: String,
    hospital_id: String,
    doctor_id: String,
    patient_id: String,
    stars: i32,
    body: String,
    reply: Option<String>,
    replied_by: Option<String>,
    replied_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn from_row(r: Row) -> Result<Review, StoreError> {
    Ok(Review {
        id: id(&r.id)?,
        appointment_id: id(&r.appointment_id)?,
        hospital_id: id(&r.hospital_id)?,
        doctor_id: id(&r.doctor_id)?,
        patient_id: id(&r.patient_id)?,
        stars: u8::try_from(r.stars).unwrap_or(0),
        body: r.body,
        reply: r.reply,
        replied_by: opt_id(r.replied_by.as_deref())?,
        replied_at: r.replied_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Writes a review. Refused if the appointment is not completed or already has a live review.
pub async fn create(store: &Store, new: &NewReview) -> Result<Review, ReviewError> {
    let now = crate::ward::stored(new.now);
    let sql = format!(
        "INSERT INTO reviews (id, appointment_id, hospital_id, doctor_id, patient_id, stars, \
         body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (appointment_id) WHERE deleted_at IS NULL DO NOTHING RETURNING {COLUMNS}"
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
                .bind(new.appointment_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        match status.as_deref() {
            None => return Err(ReviewError::NotFound),
            Some("completed") => {}
            Some(_) => return Err(ReviewError::VisitNotCompleted),
        }
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(new.id.to_string())
            .bind(new.appointment_id.to_string())
            .bind(new.hospital_id.to_string())
            .bind(new.doctor_id.to_string())
            .bind(new.patient_id.to_string())
            .bind(i32::from(new.stars))
            .bind(&new.body)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(ReviewError::ReviewExists);
        };
        tx.commit().await?;
        Ok(from_row(row)?)
    })
}

/// Changes stars and text of a live review, only for its author (else `NotFound`). Updates
/// the one row in place.
pub async fn update(
    store: &Store,
    review_id: Uuid,
    author: Uuid,
    stars: u8,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Review, ReviewError> {
    let sql = format!(
        "UPDATE reviews SET stars = $1, body = $2, updated_at = $3 \
         WHERE id = $4 AND patient_id = $5 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    let row: Option<Row> = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(i32::from(stars))
            .bind(body)
            .bind(crate::ward::stored(now))
            .bind(review_id.to_string())
            .bind(author.to_string())
            .fetch_optional(pool)
            .await?
    });
    Ok(from_row(row.ok_or(ReviewError::NotFound)?)?)
}

/// Deletes a live review of `author` (kept hidden for the reports that point at it).
pub async fn delete(
    store: &Store,
    review_id: Uuid,
    author: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ReviewError> {
    let done = with_writer!(store, pool => {
        sqlx::query(
            "UPDATE reviews SET deleted_at = $1 \
             WHERE id = $2 AND patient_id = $3 AND deleted_at IS NULL",
        )
        .bind(crate::ward::stored(now))
        .bind(review_id.to_string())
        .bind(author.to_string())
        .execute(pool)
        .await?
        .rows_affected()
    });
    if done == 1 {
        Ok(())
    } else {
        Err(ReviewError::NotFound)
    }
}

/// Sets (or replaces) the hospital's reply to a live review.
pub async fn reply(
    store: &Store,
    review_id: Uuid,
    text: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Review, ReviewError> {
    let sql = format!(
        "UPDATE reviews SET reply = $1, replied_by = $2, replied_at = $3 \
         WHERE id = $4 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    let row: Option<Row> = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(text)
            .bind(by.to_string())
            .bind(crate::ward::stored(now))
            .bind(review_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    Ok(from_row(row.ok_or(ReviewError::NotFound)?)?)
}

/// A live review.
pub async fn get(store: &Store, review_id: Uuid) -> Result<Option<Review>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE id = $1 AND deleted_at IS NULL");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(review_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// The live review of an appointment, if any.
pub async fn of_appointment(
    store: &Store,
    appointment_id: Uuid,
) -> Result<Option<Review>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM reviews WHERE appointment_id = $1 AND deleted_at IS NULL");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(appointment_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// A subject's live reviews, newest first, older than `before` if given, at most `limit`.
pub async fn list(
    store: &Store,
    subject: Subject,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Review>, StoreError> {
    let (column, subject_id) = subject.column_and_id();
    let sql = format!(
        "SELECT {COLUMNS} FROM reviews WHERE {column} = $1 AND deleted_at IS NULL \
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subject_id)
            .bind(before.map(|b| b.to_string()))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// Count, average and distribution of a subject's live reviews.
pub async fn summary(store: &Store, subject: Subject) -> Result<RatingSummary, StoreError> {
    let (kind, id) = match subject {
        Subject::Hospital(h) => (Rated::Hospitals, h),
        Subject::Doctor(d) => (Rated::Doctors, d),
    };
    Ok(summaries(store, kind, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// Count, average and distribution from (stars, reviews) rows.
fn tally(rows: Vec<(i32, i64)>) -> RatingSummary {
    let mut summary = RatingSummary::default();
    let mut total_stars = 0u64;
    for (stars, n) in rows {
        let (Ok(slot), Ok(n)) = (usize::try_from(stars - 1), u64::try_from(n)) else {
            continue;
        };
        if let Some(bucket) = summary.distribution.get_mut(slot) {
            *bucket += n;
            summary.count += n;
            total_stars += n * (slot as u64 + 1);
        }
    }
    if summary.count > 0 {
        // Two decimals: enough for display, and stable across backends.
        let average = total_stars as f64 / summary.count as f64;
        summary.average = Some((average * 100.0).round() / 100.0);
    }
    summary
}

/// Which kind of subject a list of ids names, for [`summaries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rated {
    Hospitals,
    Doctors,
}

/// The rating summaries of many subjects in one query (a search page's hospitals or
/// doctors). Subjects without reviews are absent from the answer.
pub async fn summaries(
    store: &Store,
    kind: Rated,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, RatingSummary>, StoreError> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let column = match kind {
        Rated::Hospitals => "hospital_id",
        Rated::Doctors => "doctor_id",
    };
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {column}, stars, COUNT(*) FROM reviews WHERE deleted_at IS NULL \
         AND {column} IN ({}) GROUP BY {column}, stars",
        placeholders.join(", ")
    );
    let rows: Vec<(String, i32, i64)> = with_reader!(store, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            query = query.bind(id.to_string());
        }
        query.fetch_all(pool).await?
    });
    let mut grouped: std::collections::HashMap<Uuid, Vec<(i32, i64)>> = Default::default();
    for (id, stars, n) in rows {
        let id =
            Uuid::parse_str(&id).map_err(|e| StoreError::Other(sqlx::Error::Decode(e.into())))?;
        grouped.entry(id).or_default().push((stars, n));
    }
    for (id, rows) in grouped {
        out.insert(id, tally(rows));
    }
    Ok(out)
}

/// Files an abuse report; a second report of the same review by the same user is refused.
pub async fn report(store: &Store, r: &ReviewReport) -> Result<ReviewReport, ReviewError> {
    let at = crate::ward::stored(r.created_at);
    let inserted: Option<String> = with_writer!(store, pool => {
        sqlx::query_scalar(
            "INSERT INTO review_reports (id, review_id, hospital_id, reporter_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (review_id, reporter_id) DO NOTHING RETURNING id",
        )
        .bind(r.id.to_string())
        .bind(r.review_id.to_string())
        .bind(r.hospital_id.to_string())
        .bind(r.reporter_id.to_string())
        .bind(&r.reason)
        .bind(at)
        .fetch_optional(pool)
        .await?
    });
    if inserted.is_none() {
        return Err(ReviewError::AlreadyReported);
    }
    Ok(ReviewReport {
        created_at: at,
        ..r.clone()
    })
}

/// A hospital's abuse reports, newest first, older than `before` if given.
pub async fn reports(
    store: &Store,
    hospital: Uuid,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ReviewReport>, StoreError> {
    let rows: Vec<(String, String, String, String, String, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, review_id, hospital_id, reporter_id, reason, created_at \
             FROM review_reports WHERE hospital_id = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(hospital.to_string())
        .bind(before.map(|b| b.to_string()))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(rid, review, hospital, reporter, reason, created_at)| {
            Ok(ReviewReport {
                id: id(&rid)?,
                review_id: id(&review)?,
                hospital_id: id(&hospital)?,
                reporter_id: id(&reporter)?,
                reason,
                created_at,
            })
        })
        .collect()
}
