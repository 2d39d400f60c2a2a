//! `/api/v1/push/…`: a nurse's browsers subscribe to Web Push, so high-priority alarms of
//! their wards (and their escalations) reach them with the station tab closed or the phone
//! locked. The sending is `crate::ward::push`'s.
//!
//! A subscription belongs to the nurse who made it and only they list or remove it. Its
//! endpoint (a capability URL) and `auth` secret are never shown again: the API names the
//! push service's host only, and `auth` is stored sealed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use docde_store::ward::push::{self, Subscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use super::ward::person;
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::push::worker::auth_context;
use crate::ward::push::{check_subscription, endpoint_host};

/// The key browsers subscribe with.
#[derive(Debug, Serialize, ToSchema)]
pub struct VapidPublicKey {
    /// base64url (no padding) of the uncompressed P-256 point: pass it as
    /// `applicationServerKey` to `pushManager.subscribe`.
    #[schema(
        example = "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U"
    )]
    pub public_key: String,
}

/// A browser's `PushSubscription`, as `subscription.toJSON()` gives it.
#[derive(Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PushSubscriptionRequest {
    /// The push service's URL for this browser (`https://`, at a host in
    /// `push.endpoint_hosts`).
    #[garde(skip)]
    #[schema(example = "https://fcm.googleapis.com/fcm/send/cX1…")]
    pub endpoint: String,
    /// When the browser will drop the subscription (ms since the epoch), if it says.
    #[garde(skip)]
    pub expiration_time: Option<f64>,
    #[garde(skip)]
    pub keys: PushSubscriptionKeys,
}

/// The subscription's keys, base64url.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed).
    #[schema(
        example = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY"
    )]
    pub p256dh: String,
    /// The browser's 16-byte authentication secret.
    #[schema(example = "_ordMnz7uTCmrpBTeUV4Bw")]
    pub auth: String,
}

// The endpoint is a capability URL and `auth` a secret: a debug print shows neither.
impl std::fmt::Debug for PushSubscriptionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscriptionRequest")
            .field("endpoint_host", &endpoint_host(&self.endpoint))
            .finish_non_exhaustive()
    }
}

/// One of the caller's subscriptions, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushSubscriptionView {
    pub id: Uuid,
    /// The push service's host (`fcm.googleapis.com`, …); the full endpoint is not shown.
    pub endpoint_host: String,
    pub created_at: DateTime<Utc>,
    /// When a message last reached this browser's push service.
    pub last_sent_at: Option<DateTime<Utc>>,
}

impl From<Subscription> for PushSubscriptionView {
    fn from(s: Subscription) -> Self {
        Self {
            id: s.id,
            endpoint_host: endpoint_host(&s.endpoint),
            created_at: s.created_at,
            last_sent_at: s.last_sent_at,
        }
    }
}

/// The caller, if they are a person who may subscribe (nurses: pages go to a ward's nurses).
fn subscriber(principal: &Principal) -> Result<Uuid, ApiError> {
    let me = person(principal)?;
    let hospital_id = match principal {
        Principal::User(u) => u.hospital_id,
        Principal::Device(_) => None,
    };
    authorize(
        principal,
        Action::SubscribePush,
        Target::User {
            id: me,
            hospital_id,
        },
    )?;
    Ok(me)
}

/// Signed-in people: the installation's VAPID public key. Not secret, but only a nurse's
/// browser has a use for it.
#[utoipa::path(get, path = "/api/v1/push/vapid-public-key", tag = "ward", security(("bearer" = [])),
    responses(
        (status = 200, description = "The key to subscribe with", body = VapidPublicKey),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the key could not be loaded", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn vapid_public_key(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<VapidPublicKey>, ApiError> {
    person(&principal)?;
    let keys = state
        .ward
        .push
        .get(&state)
        .await
        .map_err(ApiError::Unavailable)?;
    Ok(Json(VapidPublicKey {
        public_key: keys.public_key.clone(),
    }))
}

/// Nurses: subscribe this browser to the high-priority alarms of the caller's wards. A
/// browser that subscribes again (the same endpoint) keeps its subscription and takes the new
/// keys (and owner, when someone else signs in on it).
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "ward", security(("bearer" = [])),
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "Subscribed", body = PushSubscriptionView),
        (status = 200, description = "Already subscribed; keys updated", body = PushSubscriptionView),
        (status = 403, description = "`forbidden`: not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_push_subscription` (endpoint not https at a known push service, keys that do not decode), `validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn subscribe(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<PushSubscriptionRequest>,
) -> Result<(StatusCode, Json<PushSubscriptionView>), ApiError> {
    let me = subscriber(&principal)?;
    let checked = check_subscription(
        &state.config.push,
        &req.endpoint,
        &req.keys.p256dh,
        &req.keys.auth,
    )
    .map_err(|problem| ApiError::Invalid {
        code: problem.code(),
        field: problem.field().into(),
        message: problem.to_string(),
    })?;
    let id = Uuid::now_v7();
    let new = Subscription {
        id,
        user_id: me,
        auth: state
            .records
            .seal(&auth_context(&checked.endpoint), &checked.auth),
        endpoint: checked.endpoint,
        p256dh: checked.p256dh,
        created_at: now(),
        last_sent_at: None,
    };
    let (saved, created) = push::subscribe(&state.store, &new).await?;
    tracing::info!(subscription.id = %saved.id, user.id = %me, host = %endpoint_host(&saved.endpoint), created, "push subscription stored");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(saved.into())))
}

/// Nurses: the caller's subscribed browsers.
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "ward", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscriptions, oldest first", body = [PushSubscriptionView]),
        (status = 403, description = "`forbidden`: not a nurse", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<PushSubscriptionView>>, ApiError> {
    let me = subscriber(&principal)?;
    let mine = push::of_user(&state.store, me).await?;
    Ok(Json(mine.into_iter().map(Into::into).collect()))
}

/// Nurses: unsubscribe one of the caller's browsers (messages still queued for it are dropped).
#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{id}", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`: not a nurse", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such subscription of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let me = subscriber(&principal)?;
    if !push::unsubscribe(&state.store, me, id).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(subscription.id = %id, user.id = %me, "push subscription removed");
    Ok(StatusCode::NO_CONTENT)
}
