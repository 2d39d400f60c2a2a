//! `/api/v1/…/reviews`: one review per completed visit by its patient, rating summaries for
//! the directory, hospital replies, and abuse reports for the hospital's admins.
//!
//! Reading reviews is public like the directory they belong to, and never shows who wrote a
//! review. Writing, editing and deleting are the visit's patient's alone; an edit changes the
//! one stored review (there is no second row to go stale).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use docde_domain::record::{Stars, text};
use docde_store::booking::appointments;
use docde_store::reviews::{
    self, NewReview, RatingSummary, Review, ReviewError, ReviewReport, Subject,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::now;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, allowed, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

const MAX_TEXT: usize = 2_000;
const MAX_REASON: usize = 500;

/// Stars and text, for writing and editing a review.
#[derive(Debug, Clone, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 1–5.
    #[garde(skip)]
    pub stars: i64,
    /// 1–2000 characters.
    #[garde(skip)]
    pub text: String,
}

/// A hospital's reply, or a report's reason.
#[derive(Debug, Clone, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    #[garde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyView {
    pub text: String,
    pub replied_at: DateTime<Utc>,
}

/// A review as everyone sees it (without its author).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub stars: u8,
    pub text: String,
    /// The hospital's reply.
    pub reply: Option<ReplyView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Review> for ReviewView {
    fn from(r: Review) -> Self {
        Self {
            id: r.id,
            hospital_id: r.hospital_id,
            doctor_id: r.doctor_id,
            stars: r.stars,
            text: r.body,
            reply: match (r.reply, r.replied_at) {
                (Some(text), Some(replied_at)) => Some(ReplyView { text, replied_at }),
                _ => None,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Ratings of a hospital or doctor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingSummaryView {
    pub count: u64,
    /// Mean stars to two decimals; `null` without reviews.
    pub average: Option<f64>,
    /// Reviews per star count, `"1"` … `"5"`.
    pub distribution: BTreeMap<String, u64>,
}

impl From<RatingSummary> for RatingSummaryView {
    fn from(s: RatingSummary) -> Self {
        Self {
            count: s.count,
            average: s.average,
            distribution: (1..=5)
                .map(|n| (n.to_string(), s.distribution[n - 1]))
                .collect(),
        }
    }
}

/// The rating summary of a hospital or doctor, for the directory's entries.
pub async fn summary(state: &AppState, subject: Subject) -> Result<RatingSummaryView, ApiError> {
    Ok(reviews::summary(&state.store, subject).await?.into())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewPage {
    pub items: Vec<ReviewView>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub id: Uuid,
    pub review_id: Uuid,
    pub hospital_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<ReviewReport> for ReportView {
    fn from(r: ReviewReport) -> Self {
        Self {
            id: r.id,
            review_id: r.review_id,
            hospital_id: r.hospital_id,
            reporter_id: r.reporter_id,
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportView>,
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

impl PageQuery {
    fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.limit.unwrap_or(20);
        if (1..=100).contains(&limit) {
            Ok(limit)
        } else {
            Err(super::invalid("limit", "must be between 1 and 100"))
        }
    }
}

fn next_cursor<T>(items: &[T], limit: u32, id: impl Fn(&T) -> Uuid) -> Option<Uuid> {
    (items.len() == limit as usize)
        .then(|| items.last().map(id))
        .flatten()
}

fn invalid(code: &'static str, field: &str, message: impl ToString) -> ApiError {
    ApiError::Invalid {
        code,
        field: field.to_owned(),
        message: message.to_string(),
    }
}

fn checked(req: &ReviewRequest) -> Result<(u8, String), ApiError> {
    let stars = Stars::new(req.stars).map_err(|e| invalid("stars_out_of_range", "stars", e))?;
    let body = text(&req.text, MAX_TEXT).map_err(|e| invalid(e.code(), "text", e))?;
    Ok((stars.get(), body))
}

fn review_error(e: ReviewError) -> ApiError {
    match e {
        ReviewError::VisitNotCompleted => ApiError::Conflict {
            code: "visit_not_completed",
            detail: "a visit is reviewed once it is completed".into(),
        },
        ReviewError::ReviewExists => ApiError::Conflict {
            code: "review_exists",
            detail: "this visit already has your review: edit it instead".into(),
        },
        ReviewError::AlreadyReported => ApiError::Conflict {
            code: "already_reported",
            detail: "you have already reported this review".into(),
        },
        ReviewError::NotFound => ApiError::NotFound,
        ReviewError::Store(e) => e.into(),
    }
}

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Review a completed visit (its patient, once).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/review", operation_id = "create_review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id (the visit)")),
    request_body = ReviewRequest,
    responses(
        (status = 201, description = "Written", body = ReviewView),
        (status = 403, description = "Not the visit's patient", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`visit_not_completed`, `review_exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`stars_out_of_range`, `empty_text`, `text_too_long`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(appointment_id): Path<Uuid>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Response, ApiError> {
    let visit = appointments::get(&state.store, appointment_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = Target::Appointment {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_user_id: None,
    };
    let principal = Principal::User(me.clone());
    // Someone else's visit is not confirmed to exist.
    if !allowed(&principal, Action::ReadAppointment, target) {
        return Err(ApiError::NotFound);
    }
    authorize(&principal, Action::WriteReview, target)?;
    let (stars, body) = checked(&req)?;
    if visit.status != "completed" {
        return Err(review_error(ReviewError::VisitNotCompleted));
    }
    let new = NewReview {
        id: Uuid::now_v7(),
        appointment_id,
        hospital_id: visit.hospital_id,
        doctor_id: visit.doctor_id,
        patient_id: me.id,
        stars,
        body,
        now: now(),
    };
    let review = reviews::create(&state.store, &new)
        .await
        .map_err(review_error)?;
    state.ratings.forget(review.hospital_id, review.doctor_id);
    Ok(created(
        format!("/api/v1/reviews/{}", review.id),
        ReviewView::from(review),
    ))
}

/// One review (public).
#[utoipa::path(get, path = "/api/v1/reviews/{id}", operation_id = "get_review", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The review", body = ReviewView),
        (status = 404, description = "No such review (or deleted)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<ReviewView>, ApiError> {
    // Public: reviews are part of the directory patients read before they have an account.
    let review = reviews::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(review.into()))
}

async fn own(state: &AppState, principal: &Principal, id: Uuid) -> Result<Review, ApiError> {
    let review = reviews::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = Target::Review {
        hospital_id: review.hospital_id,
        author_id: review.patient_id,
    };
    authorize(principal, Action::EditReview, target)?;
    Ok(review)
}

/// Edit a review (its author): the same review changes; no second one appears.
#[utoipa::path(put, path = "/api/v1/reviews/{id}", operation_id = "update_review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The edited review", body = ReviewView),
        (status = 403, description = "Not its author", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`stars_out_of_range`, `empty_text`, `text_too_long`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Json<ReviewView>, ApiError> {
    own(&state, &Principal::User(me.clone()), id).await?;
    let (stars, body) = checked(&req)?;
    let review = reviews::update(&state.store, id, me.id, stars, &body, now())
        .await
        .map_err(review_error)?;
    state.ratings.forget(review.hospital_id, review.doctor_id);
    Ok(Json(review.into()))
}

/// Delete a review (its author).
#[utoipa::path(delete, path = "/api/v1/reviews/{id}", operation_id = "delete_review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not its author", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let review = own(&state, &Principal::User(me.clone()), id).await?;
    reviews::delete(&state.store, id, me.id, now())
        .await
        .map_err(review_error)?;
    state.ratings.forget(review.hospital_id, review.doctor_id);
    Ok(StatusCode::NO_CONTENT)
}

/// Reply to a review of the hospital (its admins); a second reply replaces the first.
#[utoipa::path(put, path = "/api/v1/reviews/{id}/reply", operation_id = "reply_to_review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = TextRequest,
    responses(
        (status = 200, description = "The review with its reply", body = ReviewView),
        (status = 403, description = "Not an admin of the review's hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<TextRequest>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = reviews::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorize(
        &Principal::User(me.clone()),
        Action::ModerateReviews,
        Target::Hospital(review.hospital_id),
    )?;
    let reply = text(&req.text, MAX_TEXT).map_err(|e| invalid(e.code(), "text", e))?;
    let review = reviews::reply(&state.store, id, &reply, me.id, now())
        .await
        .map_err(review_error)?;
    Ok(Json(review.into()))
}

/// Report a review as abusive (anyone signed in, once per review); the hospital's admins see it.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reports", operation_id = "report_review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = TextRequest,
    responses(
        (status = 201, description = "Reported", body = ReportView),
        (status = 409, description = "`already_reported`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<TextRequest>,
) -> Result<Response, ApiError> {
    let review = reviews::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = Target::Review {
        hospital_id: review.hospital_id,
        author_id: review.patient_id,
    };
    authorize(&Principal::User(me.clone()), Action::ReportReview, target)?;
    let reason = text(&req.text, MAX_REASON).map_err(|e| invalid(e.code(), "text", e))?;
    let report = ReviewReport {
        id: Uuid::now_v7(),
        review_id: id,
        hospital_id: review.hospital_id,
        reporter_id: me.id,
        reason,
        created_at: now(),
    };
    let report = reviews::report(&state.store, &report)
        .await
        .map_err(review_error)?;
    Ok(created(
        format!("/api/v1/hospitals/{}/review-reports", review.hospital_id),
        ReportView::from(report),
    ))
}

/// Abuse reports about the hospital's reviews, newest first (its admins).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/review-reports", operation_id = "list_review_reports", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"), PageQuery),
    responses(
        (status = 200, description = "A page of reports (`items` empty when there are none)", body = ReportPage),
        (status = 403, description = "Not an admin of that hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reports(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(hospital): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ReportPage>, ApiError> {
    authorize(
        &Principal::User(me),
        Action::ModerateReviews,
        Target::Hospital(hospital),
    )?;
    let limit = q.limit()?;
    let items = reviews::reports(&state.store, hospital, q.cursor, limit).await?;
    let next_cursor = next_cursor(&items, limit, |r| r.id);
    Ok(Json(ReportPage {
        items: items.into_iter().map(ReportView::from).collect(),
        next_cursor,
    }))
}

async fn page(state: &AppState, subject: Subject, q: &PageQuery) -> Result<ReviewPage, ApiError> {
    let limit = q.limit()?;
    let items = reviews::list(&state.store, subject, q.cursor, limit).await?;
    let next_cursor = next_cursor(&items, limit, |r| r.id);
    Ok(ReviewPage {
        items: items.into_iter().map(ReviewView::from).collect(),
        next_cursor,
    })
}

/// A hospital's reviews, newest first (public).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/reviews", operation_id = "list_hospital_reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Hospital id"), PageQuery),
    responses((status = 200, description = "A page of reviews (`items` empty when there are none)", body = ReviewPage)))]
pub async fn of_hospital(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    // Public, like the directory entry they belong to.
    Ok(Json(page(&state, Subject::Hospital(id), &q).await?))
}

/// A doctor's reviews, newest first (public).
#[utoipa::path(get, path = "/api/v1/doctors/{id}/reviews", operation_id = "list_doctor_reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Doctor id"), PageQuery),
    responses((status = 200, description = "A page of reviews (`items` empty when there are none)", body = ReviewPage)))]
pub async fn of_doctor(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    // Public, like the directory entry they belong to.
    Ok(Json(page(&state, Subject::Doctor(id), &q).await?))
}
