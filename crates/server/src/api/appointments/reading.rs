//! Reading appointments: one appointment, a patient's and a doctor's lists (paged), the view
//! every answer shows, and loading an appointment with the facts its rules need.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use docde_store::booking::appointments::{self, Appointment, Owner};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::now;
use crate::api::schedules::local;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::booking::availability::DoctorView;
use crate::booking::document::zone;
use crate::problem::ApiError;
use crate::state::AppState;

/// An appointment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    /// In the hospital's time zone.
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// `requested`, `booked`, `denied`, `cancelled`, `checked_in`, `completed`, `no_show`.
    pub status: String,
    pub reason: String,
    /// Why it was denied or cancelled.
    pub status_reason: Option<String>,
    /// The appointment this one replaced (reschedule).
    pub rescheduled_from: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AppointmentView {
    pub fn of(a: &Appointment, tz: chrono_tz::Tz) -> Self {
        Self {
            id: a.id,
            hospital_id: a.hospital_id,
            doctor_id: a.doctor_id,
            patient_id: a.patient_id,
            starts_at: local(a.starts_at, tz),
            ends_at: local(a.ends_at, tz),
            status: a.status.clone(),
            reason: a.reason.clone(),
            status_reason: a.status_reason.clone(),
            rescheduled_from: a.rescheduled_from,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The appointment and the facts its rules need.
pub(super) async fn load(
    state: &AppState,
    id: Uuid,
) -> Result<(Appointment, std::sync::Arc<DoctorView>), ApiError> {
    let appointment = appointments::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let view = state
        .booking
        .views
        .doctor(&state.store, appointment.doctor_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((appointment, view))
}

pub(super) fn target(a: &Appointment, view: &DoctorView) -> Target<'static> {
    Target::Appointment {
        hospital_id: a.hospital_id,
        patient_id: a.patient_id,
        doctor_user_id: view.doctor.user_id,
    }
}

/// One appointment (its patient; staff of its hospital).
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "The appointment", body = AppointmentView)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    let (a, view) = load(&state, id).await?;
    // Someone else's appointment is "not found", not "forbidden": ids are not confirmed.
    authorize(&principal, Action::ReadAppointment, target(&a, &view))
        .map_err(|_| ApiError::NotFound)?;
    Ok(Json(AppointmentView::of(&a, zone(&view.doctor.time_zone))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// First local date (default: today, Asia/Seoul for a patient's own list).
    pub from: Option<NaiveDate>,
    /// Last local date, inclusive (default: `from` + 30 days).
    pub to: Option<NaiveDate>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

/// A page of appointments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    pub items: Vec<AppointmentView>,
    pub next_cursor: Option<String>,
}

/// My appointments (patients).
#[utoipa::path(get, path = "/api/v1/me/appointments", tag = "booking", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "Appointments by start time; empty list if none", body = AppointmentPage)))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<AppointmentPage>, ApiError> {
    page(
        &state,
        Owner::Patient(me.id),
        docde_domain::schedule::DEFAULT_TZ,
        &q,
    )
    .await
}

/// A doctor's appointments (staff of the doctor's hospital), e.g. today's list.
#[utoipa::path(get, path = "/api/v1/doctors/{id}/appointments", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id"), ListQuery),
    responses((status = 200, description = "Appointments by start time; empty list if none", body = AppointmentPage)))]
pub async fn of_doctor(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<ListQuery>,
) -> Result<Json<AppointmentPage>, ApiError> {
    let view = state
        .booking
        .views
        .doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorize(
        &principal,
        Action::ListAppointments,
        Target::Doctor {
            hospital_id: view.doctor.hospital_id,
            user_id: view.doctor.user_id,
        },
    )?;
    page(&state, Owner::Doctor(id), zone(&view.doctor.time_zone), &q).await
}

async fn page(
    state: &AppState,
    owner: Owner,
    tz: chrono_tz::Tz,
    q: &ListQuery,
) -> Result<Json<AppointmentPage>, ApiError> {
    let today = now().with_timezone(&tz).date_naive();
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from + chrono::Duration::days(30));
    if to < from {
        return Err(crate::api::invalid("to", "must be on or after from"));
    }
    let start_of = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.timestamp())
            .unwrap_or(0)
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let after = match &q.cursor {
        Some(c) => Some(
            parse_cursor(c)
                .ok_or_else(|| crate::api::invalid("cursor", "not a cursor from this list"))?,
        ),
        None => None,
    };
    let items = appointments::list(
        &state.store,
        owner,
        start_of(from),
        start_of(to + chrono::Duration::days(1)),
        after,
        limit,
    )
    .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| format!("{}_{}", a.starts_at, a.id)))
        .flatten();
    let mut views = Vec::with_capacity(items.len());
    for a in &items {
        let zone = match owner {
            Owner::Patient(_) => match state
                .booking
                .views
                .doctor(&state.store, a.doctor_id)
                .await?
            {
                Some(v) => zone(&v.doctor.time_zone),
                None => tz,
            },
            _ => tz,
        };
        views.push(AppointmentView::of(a, zone));
    }
    Ok(Json(AppointmentPage {
        items: views,
        next_cursor,
    }))
}

fn parse_cursor(c: &str) -> Option<(i64, Uuid)> {
    let (start, id) = c.split_once('_')?;
    Some((start.parse().ok()?, id.parse().ok()?))
}
