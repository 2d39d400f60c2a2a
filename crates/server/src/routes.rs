//! The one place every endpoint is mounted, with the middleware stack around them.

use std::any::Any;

use axum::extract::{DefaultBodyLimit, Request};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, middleware as mw};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{
    appointments, audit, auth, devices, directory, doctors, hospitals, medication, password,
    reception, reception_live, records, reviews, schedules, search, tickets, users, ward,
    ward_ingest, ward_station,
};
// Ward alarm limits and one patient's live view (branch `ward`).
use crate::api::{push, ward_admission_live, ward_escalation, ward_thresholds, ward_webhook};
// Web pages and the nurse station's per-admission reads.
use crate::api::{patient_vitals, ward_patient};
use crate::extract::BodyLimit;
use crate::middleware::{self, RequestId};
use crate::openapi::ApiDoc;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::{health, metrics};

/// The OpenAPI-described routes and the document describing them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::render))
        .routes(routes!(auth::sign_up))
        .routes(routes!(auth::verify_email))
        .routes(routes!(auth::resend_verification))
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(password::change_password))
        .routes(routes!(password::forgot_password))
        .routes(routes!(password::reset_password))
        .routes(routes!(auth::accept_invitation))
        .routes(routes!(users::me, users::delete_me))
        .routes(routes!(users::get))
        .routes(routes!(hospitals::create))
        .routes(routes!(
            directory::get_hospital,
            directory::put_hospital,
            directory::delete_hospital
        ))
        .routes(routes!(directory::departments))
        .routes(routes!(doctors::list_doctors, doctors::create_doctor))
        .routes(routes!(
            doctors::get_doctor,
            doctors::put_doctor,
            doctors::delete_doctor
        ))
        .routes(routes!(hospitals::invite_staff, hospitals::list_staff))
        .routes(routes!(hospitals::create_ward))
        .routes(routes!(hospitals::get_ward))
        .routes(routes!(hospitals::assign_nurse, hospitals::unassign_nurse))
        .routes(routes!(devices::create, devices::list))
        .routes(routes!(devices::revoke))
        .routes(routes!(devices::heartbeat))
        .routes(routes!(audit::list))
        .routes(routes!(search::hospitals))
        .routes(routes!(search::doctors))
        .routes(routes!(directory::reindex))
        .routes(routes!(schedules::get_schedule, schedules::put_schedule))
        .routes(routes!(schedules::doctor_availability))
        .routes(routes!(schedules::hospital_availability))
        .routes(routes!(schedules::put_booking_settings))
        .routes(routes!(appointments::book))
        .routes(routes!(appointments::get))
        .routes(routes!(appointments::mine))
        .routes(routes!(appointments::of_doctor))
        .routes(routes!(appointments::cancel))
        .routes(routes!(appointments::confirm))
        .routes(routes!(appointments::deny))
        .routes(routes!(appointments::check_in))
        .routes(routes!(appointments::complete))
        .routes(routes!(appointments::no_show))
        .routes(routes!(appointments::reschedule))
        .routes(routes!(tickets::get_ticket))
        .routes(routes!(tickets::ticket_events))
        .routes(routes!(tickets::appointment_events))
        .routes(routes!(ward::add_bed, ward::list_beds))
        .routes(routes!(ward::bind_device))
        .routes(routes!(ward::admit))
        .routes(routes!(ward::transfer))
        .routes(routes!(ward::discharge))
        .routes(routes!(ward_ingest::ingest))
        .routes(routes!(ward_ingest::legacy_ingest))
        .routes(routes!(medication::deliver_medication))
        .routes(routes!(ward_station::live))
        .routes(routes!(ward_station::ward_events))
        .routes(routes!(ward_station::list_alarms))
        .routes(routes!(ward_station::acknowledge))
        .routes(routes!(ward_station::resolve))
        // Ward alarm limits and one patient's live view (branch `ward`).
        .routes(routes!(ward_admission_live::get_news2))
        .routes(routes!(ward_admission_live::admission_events))
        .routes(routes!(
            ward_thresholds::get_ward_thresholds,
            ward_thresholds::put_ward_thresholds
        ))
        .routes(routes!(
            ward_thresholds::get_admission_thresholds,
            ward_thresholds::put_admission_thresholds
        ))
        // The ward's outgoing escalation webhook (branch `escalation`).
        .routes(routes!(
            ward_webhook::get_escalation_webhook,
            ward_webhook::put_escalation_webhook,
            ward_webhook::delete_escalation_webhook
        ))
        .routes(routes!(
            ward_escalation::get_escalation_policy,
            ward_escalation::put_escalation_policy,
            ward_escalation::delete_escalation_policy
        ))
        // Web push to nurses' browsers.
        .routes(routes!(push::vapid_public_key))
        .routes(routes!(push::subscribe, push::list_subscriptions))
        .routes(routes!(push::unsubscribe))
        .routes(routes!(records::create))
        .routes(routes!(records::create_for_walk_in))
        .routes(routes!(records::get, records::amend))
        .routes(routes!(records::versions))
        .routes(routes!(records::mine))
        .routes(routes!(records::of_patient))
        .routes(routes!(reviews::create))
        .routes(routes!(reviews::get, reviews::update, reviews::delete))
        .routes(routes!(reviews::reply))
        .routes(routes!(reviews::report))
        .routes(routes!(reviews::reports))
        .routes(routes!(reviews::of_hospital))
        .routes(routes!(reviews::of_doctor))
        .routes(routes!(reception::check_in))
        .routes(routes!(reception::get_visit))
        .routes(routes!(reception::my_visits))
        .routes(routes!(reception::call_next))
        .routes(routes!(reception::recall))
        .routes(routes!(reception::skip))
        .routes(routes!(reception::start))
        .routes(routes!(reception::complete))
        .routes(routes!(reception::no_show))
        .routes(routes!(reception::requeue))
        .routes(routes!(reception::cancel))
        .routes(routes!(reception::move_visit))
        .routes(routes!(reception::line))
        .routes(routes!(reception::put_prefix))
        .routes(routes!(reception_live::board))
        .routes(routes!(reception_live::board_events))
        .routes(routes!(reception_live::visit_events))
        .routes(routes!(reception_live::get_ticket))
        .routes(routes!(reception_live::ticket_events))
        .routes(routes!(reception_live::ticket_ws))
        // The nurse station's patient view and ward picker (crates/server/src/api/ward_patient.rs).
        .routes(routes!(ward_patient::my_wards))
        .routes(routes!(ward_patient::vitals_history))
        .routes(routes!(patient_vitals::patient_vitals))
        .routes(routes!(ward_patient::alarm_history))
        .routes(routes!(ward_patient::medications))
        .split_for_parts()
}

/// The complete application. `extra` lets tests mount probe routes under the same stack.
pub fn router(state: AppState, extra: Router<AppState>) -> Router {
    let (api_routes, document) = api();
    let config = &state.config;
    Router::new()
        .merge(api_routes)
        .merge(extra)
        // The web pages (web/, embedded): `/`, `/nurse`, `/app`, `/board/…`, `/web/…`.
        .merge(crate::web::routes())
        .merge(SwaggerUi::new("/docs").url("/openapi.json", document))
        .fallback(|| async { ApiError::NotFound })
        // Innermost first: the last layer added sees the request first.
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes))
        .layer(Extension(BodyLimit(config.http.body_limit_bytes)))
        .layer(mw::from_fn_with_state(config.request_timeout(), middleware::timeout))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(mw::from_fn(middleware::problem_details))
        .layer(mw::from_fn(metrics::track))
        .layer(mw::from_fn_with_state(state.clone(), crate::reports::capture))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("-");
                    // The path only: query strings may carry search text typed by patients.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(mw::from_fn(middleware::request_id))
        .with_state(state)
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    let mut response =
        ApiError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response();
    crate::reports::note_panic_location(&mut response);
    response
}
