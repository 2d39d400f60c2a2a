//! `/api/v1/wards/{id}/escalation-webhook`: where a ward's alarm escalations are posted
//! (a Mattermost/Slack-compatible incoming webhook). Hospital admins set, clear and read it.
//!
//! The URL is a secret (the hook's token is in its path): it is accepted once and from then
//! on shown as scheme and host only, never logged and never echoed in an error. A ward without
//! its own URL uses `ward.escalation_webhook_url` from the configuration, if set. The posts
//! themselves are `crate::ward::webhook`'s.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use docde_store::ward::webhooks::{self, WardWebhook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use super::ward::{load_ward, person};
use crate::auth::Principal;
use crate::authz::Action;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::webhook::{WebhookUrl, redact};

/// The webhook to post the ward's escalations to.
#[derive(Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct WardWebhookRequest {
    /// An absolute `http://` or `https://` incoming-webhook URL, e.g.
    /// `https://chat.hospital.example/hooks/xxxxxxxx`. Never shown again in full.
    #[garde(skip)]
    #[schema(example = "https://chat.hospital.example/hooks/xxxxxxxxxxxx")]
    pub url: String,
}

// The URL is a secret: even a debug print shows only scheme and host.
impl std::fmt::Debug for WardWebhookRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardWebhookRequest")
            .field("url", &redact(&self.url))
            .finish()
    }
}

/// Where a ward's webhook URL comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookSource {
    /// The ward's own, set through this API.
    Ward,
    /// The configured default (`ward.escalation_webhook_url`).
    Default,
    /// None: the ward's escalations reach the charge nurse's stream only.
    None,
}

/// A ward's escalation webhook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WardWebhookView {
    pub ward_id: Uuid,
    /// Scheme, host and port only (`https://chat.hospital.example/***`); `null` with no URL.
    #[schema(example = "https://chat.hospital.example/***")]
    pub url: Option<String>,
    pub source: WebhookSource,
    /// When and by whom the ward's own URL was set (`null` unless `source` is `ward`).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

fn view(state: &AppState, ward_id: Uuid, own: Option<WardWebhook>) -> WardWebhookView {
    match own {
        Some(w) => WardWebhookView {
            ward_id,
            url: Some(redact(&w.url)),
            source: WebhookSource::Ward,
            updated_at: Some(w.updated_at),
            updated_by: w.updated_by,
        },
        None => {
            let default = state.config.ward.escalation_webhook_url.as_deref();
            WardWebhookView {
                ward_id,
                url: default.map(redact),
                source: if default.is_some() {
                    WebhookSource::Default
                } else {
                    WebhookSource::None
                },
                updated_at: None,
                updated_by: None,
            }
        }
    }
}

/// Hospital admins: the ward's escalation webhook, redacted to scheme, host and port.
#[utoipa::path(get, path = "/api/v1/wards/{id}/escalation-webhook", tag = "ward", security(("bearer" = [])),
    operation_id = "get_ward_escalation_webhook",
    params(("id" = Uuid, Path, description = "Ward id")),
    responses(
        (status = 200, description = "The ward's webhook, redacted", body = WardWebhookView),
        (status = 403, description = "`forbidden`: not an admin of the ward's hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_escalation_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardWebhookView>, ApiError> {
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let own = webhooks::of_ward(&state.store, id).await?;
    Ok(Json(view(&state, id, own)))
}

/// Hospital admins: set (or replace) the ward's escalation webhook. In force from the next
/// escalation, and for escalations still waiting to be delivered.
#[utoipa::path(put, path = "/api/v1/wards/{id}/escalation-webhook", tag = "ward", security(("bearer" = [])),
    operation_id = "put_ward_escalation_webhook",
    params(("id" = Uuid, Path, description = "Ward id")), request_body = WardWebhookRequest,
    responses(
        (status = 200, description = "Stored; shown redacted", body = WardWebhookView),
        (status = 403, description = "`forbidden`: not an admin of the ward's hospital", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_webhook_url` (not an absolute http/https URL with a host), `validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_escalation_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<WardWebhookRequest>,
) -> Result<Json<WardWebhookView>, ApiError> {
    let by = person(&principal)?;
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let url = WebhookUrl::parse(&req.url).map_err(|problem| ApiError::Invalid {
        code: problem.code(),
        field: "url".into(),
        message: problem.to_string(),
    })?;
    let own = webhooks::set(&state.store, id, url.as_str(), Some(by), now()).await?;
    tracing::info!(ward.id = %id, user.id = %by, webhook = ?url, "ward escalation webhook set");
    Ok(Json(view(&state, id, Some(own))))
}

/// Hospital admins: remove the ward's own escalation webhook (the configured default, if any,
/// applies again). Escalations still waiting go to the default, or are given up without one.
#[utoipa::path(delete, path = "/api/v1/wards/{id}/escalation-webhook", tag = "ward", security(("bearer" = [])),
    operation_id = "delete_ward_escalation_webhook",
    params(("id" = Uuid, Path, description = "Ward id")),
    responses(
        (status = 200, description = "Removed (or there was none); what applies now", body = WardWebhookView),
        (status = 403, description = "`forbidden`: not an admin of the ward's hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_escalation_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardWebhookView>, ApiError> {
    let by = person(&principal)?;
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    if webhooks::clear(&state.store, id).await? {
        tracing::info!(ward.id = %id, user.id = %by, "ward escalation webhook removed");
    }
    Ok(Json(view(&state, id, None)))
}
