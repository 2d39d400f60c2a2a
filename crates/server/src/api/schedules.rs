//! `/api/v1/doctors/{id}/schedule` and the availability endpoints: a doctor's weekly template,
//! breaks, exceptions and booking window, and the free slots they produce.
//!
//! Reading a schedule and its free slots is public, like the directory: patients browse before
//! they sign in, and neither says anything about a patient. Editing is for the hospital's admins
//! and the doctor. A change never drops an appointment silently: by default it is refused with
//! the appointments it would strand; with `on_conflict: "cancel"` those are cancelled and each
//! patient is told.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use docde_domain::schedule::Schedule;
use docde_store::booking::appointments::{self, Owner};
use docde_store::booking::{BookingError, Transition, schedules};
use docde_store::directory;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::now;
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::booking::HOLIDAYS;
use crate::booking::availability::{DoctorView, SeatNotice, TOPIC};
use crate::booking::document::{BreakDoc, ExceptionDoc, PolicyDoc, RuleDoc, ScheduleDoc, zone};
use crate::booking::notify::{self, SeatChange};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// A schedule to store. `version` is the version you read (0 for a doctor without one); if
/// someone saved meanwhile the request is refused with `schedule_changed`.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    #[garde(skip)]
    pub rules: Vec<RuleDoc>,
    #[garde(skip)]
    #[serde(default)]
    pub breaks: Vec<BreakDoc>,
    #[garde(skip)]
    #[serde(default)]
    pub exceptions: Vec<ExceptionDoc>,
    #[garde(skip)]
    #[serde(default = "yes")]
    pub closed_on_holidays: bool,
    #[garde(skip)]
    #[serde(default)]
    pub policy: PolicyDoc,
    #[garde(range(min = 0))]
    pub version: i64,
    /// `refuse` (default): a change that strands appointments is refused with their list.
    /// `cancel`: they are cancelled with reason `schedule_changed` and the patients notified.
    #[garde(skip)]
    #[serde(default)]
    pub on_conflict: OnConflict,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    #[default]
    Refuse,
    Cancel,
}

fn yes() -> bool {
    true
}

/// A doctor's schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub doctor_id: Uuid,
    pub time_zone: String,
    pub version: i64,
    #[serde(flatten)]
    pub schedule: ScheduleDoc,
    /// Appointments cancelled by this change (`on_conflict: "cancel"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancelled: Vec<Uuid>,
}

/// An appointment a schedule change would strand.
#[derive(Debug, Serialize, ToSchema)]
pub struct Affected {
    pub appointment_id: Uuid,
    pub starts_at: DateTime<FixedOffset>,
    pub status: String,
}

/// A doctor's schedule (public).
#[utoipa::path(get, path = "/api/v1/doctors/{id}/schedule", tag = "booking",
    params(("id" = Uuid, Path, description = "Doctor id")),
    responses((status = 200, description = "The schedule", body = ScheduleView),
              (status = 404, description = "No such doctor, or no schedule yet")))]
pub async fn get_schedule(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<ScheduleView>, ApiError> {
    let doctor = schedules::bookable_doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let stored = schedules::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let schedule: ScheduleDoc =
        serde_json::from_str(&stored.definition).map_err(anyhow::Error::from)?;
    Ok(Json(ScheduleView {
        doctor_id: id,
        time_zone: doctor.time_zone,
        version: stored.version,
        schedule,
        cancelled: Vec::new(),
    }))
}

/// Replace a doctor's schedule (hospital admins, the doctor).
#[utoipa::path(put, path = "/api/v1/doctors/{id}/schedule", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id")), request_body = ScheduleRequest,
    responses((status = 200, description = "Saved", body = ScheduleView),
              (status = 409, description = "`schedule_conflict` (with `affected`) or `schedule_changed`"),
              (status = 422, description = "The schedule breaks a rule (code and field say which)")))]
pub async fn put_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ScheduleRequest>,
) -> Result<Json<ScheduleView>, ApiError> {
    let doctor = schedules::bookable_doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorize(
        &principal,
        Action::EditSchedule,
        Target::Doctor {
            hospital_id: doctor.hospital_id,
            user_id: doctor.user_id,
        },
    )?;
    let Principal::User(editor) = &principal else {
        return Err(ApiError::Forbidden);
    };
    let doc = ScheduleDoc {
        rules: req.rules,
        breaks: req.breaks,
        exceptions: req.exceptions,
        closed_on_holidays: req.closed_on_holidays,
        policy: req.policy,
    };
    let schedule = doc
        .to_schedule(zone(&doctor.time_zone))
        .map_err(|p| ApiError::Invalid {
            code: p.code,
            field: p.field,
            message: p.message,
        })?;
    let stranded = stranded(&state, id, &schedule).await?;
    if !stranded.is_empty() && req.on_conflict == OnConflict::Refuse {
        let tz = zone(&doctor.time_zone);
        let affected: Vec<Affected> = stranded
            .iter()
            .map(|a| Affected {
                appointment_id: a.id,
                starts_at: local(a.starts_at, tz),
                status: a.status.clone(),
            })
            .collect();
        let mut extensions = serde_json::Map::new();
        extensions.insert(
            "affected".into(),
            serde_json::to_value(&affected).map_err(anyhow::Error::from)?,
        );
        return Err(ApiError::Detailed {
            status: axum::http::StatusCode::CONFLICT,
            code: "schedule_conflict",
            detail: format!(
                "{} appointment(s) would no longer fit; move or cancel them, or send on_conflict: \"cancel\"",
                affected.len()
            ),
            extensions,
        });
    }
    let definition = serde_json::to_string(&doc).map_err(anyhow::Error::from)?;
    let version = schedules::put(
        &state.store,
        id,
        &definition,
        req.version,
        Some(editor.id),
        now(),
    )
    .await?
    .ok_or(ApiError::Conflict {
        code: "schedule_changed",
        detail: "someone saved this schedule meanwhile; reload it and apply your change again"
            .into(),
    })?;
    let mut cancelled = Vec::new();
    for appointment in stranded {
        if cancel_stranded(&state, &appointment, editor.id, &doctor.time_zone).await? {
            cancelled.push(appointment.id);
        }
    }
    resize_seats(&state, id, &schedule).await?;
    state.booking.views.forget(id);
    let notice = SeatNotice {
        origin: state.booking.views.instance,
        doctor_id: id,
        slot: None,
        patient: None,
    };
    if let Ok(payload) = serde_json::to_vec(&notice) {
        let _ = state.bus.publish(TOPIC, payload).await;
    }
    Ok(Json(ScheduleView {
        doctor_id: id,
        time_zone: doctor.time_zone,
        version,
        schedule: doc,
        cancelled,
    }))
}

/// Active future appointments the new schedule has no room for: their slot is gone or changed
/// length, or the slot now has fewer seats than are taken (the latest bookings lose).
async fn stranded(
    state: &AppState,
    doctor_id: Uuid,
    schedule: &Schedule,
) -> Result<Vec<appointments::Appointment>, ApiError> {
    let from = now().timestamp();
    let mut out = Vec::new();
    let mut by_start: std::collections::HashMap<i64, Vec<appointments::Appointment>> =
        Default::default();
    let mut after = None;
    loop {
        let page = appointments::list(
            &state.store,
            Owner::Doctor(doctor_id),
            from,
            i64::MAX,
            after,
            1000,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.starts_at, last.id));
        for a in page {
            if matches!(a.status.as_str(), "requested" | "booked") {
                by_start.entry(a.starts_at).or_default().push(a);
            }
        }
    }
    for (start, mut held) in by_start {
        let slot = DateTime::from_timestamp(start, 0).and_then(|t| schedule.slot_at(t, &HOLIDAYS));
        match slot {
            Some(slot) if slot.end.timestamp() == held[0].ends_at => {
                held.sort_by_key(|a| a.created_at);
                out.extend(held.into_iter().skip(usize::from(slot.capacity)));
            }
            _ => out.extend(held),
        }
    }
    out.sort_by_key(|a| (a.starts_at, a.id));
    Ok(out)
}

async fn cancel_stranded(
    state: &AppState,
    appointment: &appointments::Appointment,
    by: Uuid,
    time_zone: &str,
) -> Result<bool, ApiError> {
    let email = state.config.booking.notify_email.then(|| {
        notify::letter(
            appointment.id,
            appointment.starts_at,
            time_zone,
            "cancelled",
        )
    });
    let t = Transition {
        appointment_id: appointment.id,
        from: appointment.status.clone(),
        to: "cancelled",
        reason: Some("schedule_changed".into()),
        by,
        frees_seat: true,
        now: now(),
        email,
    };
    match appointments::transition(&state.store, &t).await {
        Ok((cancelled, event)) => {
            notify::wake_mail(state);
            notify::after_commit(state, &cancelled, event, SeatChange::Freed).await;
            Ok(true)
        }
        // Cancelled or moved on by someone else meanwhile: nothing stranded any more.
        Err(BookingError::Conflict(_)) => Ok(false),
        Err(BookingError::NotFound) => Ok(false),
        // Staff changes carry no session for the writer to confirm.
        Err(e @ BookingError::SessionEnded) => Err(super::appointments::booking_error(e)),
        Err(BookingError::Store(e)) => Err(e.into()),
    }
}

/// Brings stored seat counts in line with the new capacities.
async fn resize_seats(
    state: &AppState,
    doctor_id: Uuid,
    schedule: &Schedule,
) -> Result<(), ApiError> {
    let from = now().timestamp();
    let horizon = i64::from(schedule.policy().horizon_days) + 2;
    let held =
        docde_store::booking::seats::taken(&state.store, doctor_id, from, from + horizon * 86_400)
            .await?;
    let changes: Vec<(i64, u16)> = held
        .iter()
        .filter_map(|s| {
            let slot = DateTime::from_timestamp(s.starts_at, 0)
                .and_then(|t| schedule.slot_at(t, &HOLIDAYS))?;
            (slot.capacity != s.capacity && slot.capacity >= s.taken)
                .then_some((s.starts_at, slot.capacity))
        })
        .collect();
    docde_store::booking::seats::resize(&state.store, doctor_id, &changes).await?;
    Ok(())
}

pub(crate) fn local(unix: i64, tz: chrono_tz::Tz) -> DateTime<FixedOffset> {
    let t = DateTime::from_timestamp(unix, 0).unwrap_or_default();
    t.with_timezone(&tz).fixed_offset()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First local date (default: today in the hospital's zone).
    pub from: Option<NaiveDate>,
    /// Last local date, inclusive (default: `from` + 6 days; at most 31 days after `from`).
    pub to: Option<NaiveDate>,
    /// Only slots with a free seat (default true).
    pub only_free: Option<bool>,
    /// For hospital availability: only doctors of this department (code or Korean name).
    pub department: Option<String>,
}

/// One bookable slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub capacity: u16,
    pub free: u16,
}

/// A doctor's bookable slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    pub doctor_id: Uuid,
    pub time_zone: String,
    pub accepts_online_booking: bool,
    pub slots: Vec<SlotView>,
}

/// Free slots of a doctor (public): bookable now, inside the booking horizon.
#[utoipa::path(get, path = "/api/v1/doctors/{id}/availability", tag = "booking",
    params(("id" = Uuid, Path, description = "Doctor id"), RangeQuery),
    responses((status = 200, description = "Slots", body = AvailabilityView)))]
pub async fn doctor_availability(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(range): Query<RangeQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let view = state
        .booking
        .views
        .doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(availability(&view, &range)?))
}

/// Hospital availability: each doctor with their free slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalAvailabilityView {
    pub hospital_id: Uuid,
    pub doctors: Vec<AvailabilityView>,
}

/// Free slots of a hospital's doctors, optionally of one department (public).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/availability", tag = "booking",
    params(("id" = Uuid, Path, description = "Hospital id"), RangeQuery),
    responses((status = 200, description = "Doctors and slots; empty list if none", body = HospitalAvailabilityView)))]
pub async fn hospital_availability(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(range): Query<RangeQuery>,
) -> Result<Json<HospitalAvailabilityView>, ApiError> {
    directory::get_hospital(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let department = match &range.department {
        Some(raw) => Some(
            raw.parse::<docde_domain::directory::Department>()
                .map_err(|e| super::invalid("department", e))?
                .code()
                .to_owned(),
        ),
        None => None,
    };
    let mut doctors = Vec::new();
    for d in directory::doctors(&state.store, Some(id)).await? {
        if department
            .as_ref()
            .is_some_and(|code| !d.departments.contains(code))
        {
            continue;
        }
        if let Some(view) = state.booking.views.doctor(&state.store, d.id).await? {
            doctors.push(availability(&view, &range)?);
        }
    }
    Ok(Json(HospitalAvailabilityView {
        hospital_id: id,
        doctors,
    }))
}

fn availability(view: &DoctorView, range: &RangeQuery) -> Result<AvailabilityView, ApiError> {
    let tz = zone(&view.doctor.time_zone);
    let mut slots = Vec::new();
    if let Some(schedule) = view
        .schedule
        .as_ref()
        .filter(|_| view.doctor.accepts_online_booking)
    {
        let at = now();
        let (first, last) = schedule.horizon(at);
        let from = range.from.unwrap_or(first);
        let to = range.to.unwrap_or(from + Duration::days(6));
        if to < from || (to - from).num_days() > 31 {
            return Err(super::invalid(
                "to",
                "must be on or after from, and at most 31 days later",
            ));
        }
        let (from, to) = (from.max(first), to.min(last));
        if from <= to {
            for slot in schedule.slots(from, to, &HOLIDAYS) {
                if schedule.check_bookable(&slot, at).is_err() {
                    continue;
                }
                let free = slot
                    .capacity
                    .saturating_sub(view.taken(slot.start.timestamp()));
                if free == 0 && range.only_free.unwrap_or(true) {
                    continue;
                }
                slots.push(SlotView {
                    starts_at: slot.start.with_timezone(&tz).fixed_offset(),
                    ends_at: slot.end.with_timezone(&tz).fixed_offset(),
                    capacity: slot.capacity,
                    free,
                });
            }
        }
    }
    Ok(AvailabilityView {
        doctor_id: view.doctor.id,
        time_zone: view.doctor.time_zone.clone(),
        accepts_online_booking: view.doctor.accepts_online_booking,
        slots,
    })
}

/// How a hospital confirms online bookings.
#[derive(Debug, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct BookingSettingsView {
    /// `auto_confirm` (booked at once) or `doctor_approval` (requested until the doctor decides).
    #[garde(skip)]
    pub booking_mode: BookingMode,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingMode {
    AutoConfirm,
    DoctorApproval,
}

impl BookingMode {
    fn as_str(self) -> &'static str {
        match self {
            BookingMode::AutoConfirm => "auto_confirm",
            BookingMode::DoctorApproval => "doctor_approval",
        }
    }
}

/// Set how the hospital confirms bookings (its admins).
#[utoipa::path(put, path = "/api/v1/hospitals/{id}/booking-settings", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = BookingSettingsView,
    responses((status = 200, description = "Saved", body = BookingSettingsView)))]
pub async fn put_booking_settings(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<BookingSettingsView>,
) -> Result<Json<BookingSettingsView>, ApiError> {
    authorize(&principal, Action::ManageDirectory, Target::Hospital(id))?;
    if !schedules::set_booking_mode(&state.store, id, req.booking_mode.as_str()).await? {
        return Err(ApiError::NotFound);
    }
    // Every doctor of the hospital reloads with the new mode.
    state.booking.views.forget_all();
    let notice_all = directory::doctors(&state.store, Some(id)).await?;
    for d in notice_all {
        let notice = SeatNotice {
            origin: state.booking.views.instance,
            doctor_id: d.id,
            slot: None,
            patient: None,
        };
        if let Ok(payload) = serde_json::to_vec(&notice) {
            let _ = state.bus.publish(TOPIC, payload).await;
        }
    }
    Ok(Json(req))
}
