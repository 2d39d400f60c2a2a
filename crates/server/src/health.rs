//! Liveness and readiness. Both are public on purpose: load balancers and orchestrators
//! probe them without credentials, and they reveal only which dependency is down.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use docde_bus::BusHealth;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::Problem;
use crate::state::AppState;

/// A dependency check may take at most this long before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
    /// Per dependency: `ok`, or what is wrong.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<&'static str, String>,
}

/// `GET /healthz`: the process is alive and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        checks: BTreeMap::new(),
    })
}

/// `GET /readyz`: the instance can serve traffic: database reachable with every migration
/// applied, coordination backend reachable, the MQTT broker connected (when configured), not
/// shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready; `checks` names the failing part", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (database, coordination) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, state.store.check()),
        tokio::time::timeout(CHECK_TIMEOUT, state.bus.health()),
    );
    let mut checks = BTreeMap::new();
    checks.insert(
        "database",
        match database {
            Ok(Ok(())) => "ok".to_owned(),
            Ok(Err(problem)) => problem.to_string(),
            Err(_) => "database did not answer in time".to_owned(),
        },
    );
    checks.insert(
        "coordination",
        match coordination {
            Ok(BusHealth::Ready) => "ok".to_owned(),
            Ok(BusHealth::NotReady(why)) => why,
            Err(_) => "coordination backend did not answer in time".to_owned(),
        },
    );
    checks.insert(
        "search",
        if state.directory.get().is_some() {
            "ok".to_owned()
        } else {
            "search index is being built".to_owned()
        },
    );
    if state.config.mqtt.url.is_some() {
        checks.insert(
            "mqtt",
            if state.ward.mqtt.connected() > 0 {
                "ok".to_owned()
            } else {
                "not connected to the MQTT broker".to_owned()
            },
        );
    }
    if state.is_draining() {
        checks.insert("lifecycle", "shutting down".to_owned());
    }
    let failing: Vec<_> = checks
        .iter()
        .filter(|(_, v)| *v != "ok")
        .map(|(k, _)| *k)
        .collect();
    if failing.is_empty() {
        return Json(Health {
            status: "ready",
            checks,
        })
        .into_response();
    }
    let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    problem.detail = Some(format!("not ready: {}", failing.join(", ")));
    problem.extensions.insert(
        "checks".into(),
        serde_json::to_value(&checks).unwrap_or_default(),
    );
    problem.into_response()
}
