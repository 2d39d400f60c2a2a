//! Web Push (RFC 8030, payloads encrypted per RFC 8291, signed with VAPID per RFC 8292) to
//! the browsers of a ward's nurses, for high-priority alarms and their escalations: the page
//! reaches a nurse whose station tab is closed or whose phone is locked.
//!
//! The alarm's transaction queues one message per subscription of the ward's nurses
//! (`docde_store::ward::push`), so nothing committed is forgotten; [`worker`] sends them from
//! every instance. A subscription is checked when it is made ([`check_subscription`]): its
//! endpoint must be `https://` at a push service listed in `push.endpoint_hosts`, so the
//! server never posts to a host a signed-in user picked.
//!
//! The message names the ward, the bed label and the alarm kind, never the patient; it is
//! encrypted for the browser, and push services see only ciphertext.

pub mod keys;
pub mod worker;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use docde_domain::ward::alarm::{AlarmStatus, Priority};
use docde_store::ward::alarms::Raised;
use docde_store::ward::push::Delivery;
use serde_json::{Value, json};

use crate::config::PushSettings;
use crate::state::AppState;

const MAX_ENDPOINT_CHARS: usize = 2048;

/// After [`docde_store::ward::alarms::raise`]: wakes the push workers if the raise queued messages (a new alarm
/// or a rise, at high priority). Returns whether the raise wrote anything.
pub async fn wake_if_queued(state: &AppState, raised: &Raised) -> bool {
    match raised {
        Raised::New { alarm, .. } | Raised::PriorityRaised { alarm, .. } => {
            if alarm.priority == Priority::High {
                worker::wake(state).await;
            }
            true
        }
        Raised::AlreadyOpen(_) => false,
    }
}

/// Why a browser's subscription was refused: one stable API code,
/// `invalid_push_subscription`, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionProblem {
    #[error("endpoint: not an absolute https:// URL of at most {MAX_ENDPOINT_CHARS} characters")]
    Endpoint,
    #[error("endpoint: not at a push service this server sends to (push.endpoint_hosts)")]
    EndpointHost,
    #[error("keys.p256dh: not a base64url P-256 public key")]
    P256dh,
    #[error("keys.auth: not 16 bytes of base64url")]
    Auth,
}

impl SubscriptionProblem {
    pub fn code(&self) -> &'static str {
        "invalid_push_subscription"
    }

    pub fn field(&self) -> &'static str {
        match self {
            Self::Endpoint | Self::EndpointHost => "endpoint",
            Self::P256dh => "keys.p256dh",
            Self::Auth => "keys.auth",
        }
    }
}

/// A subscription that passed [`check_subscription`], its keys in unpadded base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

// The endpoint is a capability URL and `auth` a secret: a debug print shows the host only.
impl std::fmt::Debug for CheckedSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedSubscription")
            .field("endpoint_host", &endpoint_host(&self.endpoint))
            .finish_non_exhaustive()
    }
}

/// The push service's host of an endpoint, which is all the API and logs ever show of it.
pub fn endpoint_host(endpoint: &str) -> String {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "***".into())
}

fn b64url(raw: &str) -> Option<Vec<u8>> {
    let raw = raw.trim();
    URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(raw))
        .ok()
}

/// Checks a browser's `PushSubscription` (endpoint and keys) against `push.*`.
pub fn check_subscription(
    settings: &PushSettings,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> Result<CheckedSubscription, SubscriptionProblem> {
    let endpoint = endpoint.trim();
    if endpoint.chars().count() > MAX_ENDPOINT_CHARS {
        return Err(SubscriptionProblem::Endpoint);
    }
    let url = url::Url::parse(endpoint).map_err(|_| SubscriptionProblem::Endpoint)?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return Err(SubscriptionProblem::Endpoint);
    }
    let host = url.host_str().ok_or(SubscriptionProblem::Endpoint)?;
    if !settings.endpoint_host_allowed(host) {
        return Err(SubscriptionProblem::EndpointHost);
    }
    let key = b64url(p256dh).ok_or(SubscriptionProblem::P256dh)?;
    if key.len() != 65 || web_push_native::p256::PublicKey::from_sec1_bytes(&key).is_err() {
        return Err(SubscriptionProblem::P256dh);
    }
    let secret = b64url(auth).ok_or(SubscriptionProblem::Auth)?;
    if secret.len() != 16 {
        return Err(SubscriptionProblem::Auth);
    }
    Ok(CheckedSubscription {
        endpoint: url.to_string(),
        p256dh: URL_SAFE_NO_PAD.encode(key),
        auth: URL_SAFE_NO_PAD.encode(secret),
    })
}

/// The notification a browser shows (the service worker in `web/sw.js` reads these fields).
pub fn message(d: &Delivery) -> Value {
    let level = d
        .reason
        .strip_prefix("escalated:")
        .and_then(|n| n.parse::<u8>().ok());
    let title = match level {
        Some(n) => format!("⚠ 미확인 경보 {n}단계 · {} — {}", d.bed_label, d.kind.ko()),
        None => format!("⚠ {} — {}", d.bed_label, d.kind.ko()),
    };
    let mut body = format!("{} · {} ({})", d.ward_name, d.kind.en(), d.priority.code());
    if d.alarm_status != AlarmStatus::Active {
        body.push_str(&format!(" · now {}", d.alarm_status.code()));
    }
    json!({
        "title": title,
        "body": body,
        // One notification per alarm on the device: an escalation replaces the first page.
        "tag": format!("alarm-{}", d.alarm_id),
        "url": format!("/nurse?ward={}", d.ward_id),
        "alarm_id": d.alarm_id,
        "ward_id": d.ward_id,
        "bed": d.bed_label,
        "kind": d.kind.code(),
        "priority": d.priority.code(),
        "reason": d.reason,
        "escalation_level": level,
        "raised_at": d.raised_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    #[test]
    fn a_browser_subscription_at_a_listed_push_service_is_accepted() {
        let push = PushSettings::default();
        let ok = check_subscription(
            &push,
            "https://fcm.googleapis.com/fcm/send/abc:def",
            P256DH,
            AUTH,
        )
        .unwrap();
        assert_eq!(ok.p256dh, P256DH);
        assert_eq!(ok.auth, AUTH);
        // Padded base64url is accepted and stored unpadded.
        let padded = check_subscription(
            &push,
            "https://fcm.googleapis.com/x",
            P256DH,
            "_ordMnz7uTCmrpBTeUV4Bw==",
        )
        .unwrap();
        assert_eq!(padded.auth, AUTH);
    }

    #[test]
    fn endpoints_and_keys_that_do_not_fit_are_refused_by_field() {
        let push = PushSettings::default();
        let cases = [
            ("http://fcm.googleapis.com/x", P256DH, AUTH, "endpoint"),
            (
                "https://user:pw@fcm.googleapis.com/x",
                P256DH,
                AUTH,
                "endpoint",
            ),
            ("fcm.googleapis.com/x", P256DH, AUTH, "endpoint"),
            (
                "https://intranet.hospital.example/admin",
                P256DH,
                AUTH,
                "endpoint",
            ),
            ("https://127.0.0.1:8080/x", P256DH, AUTH, "endpoint"),
            ("https://fcm.googleapis.com/x", "AAAA", AUTH, "keys.p256dh"),
            (
                "https://fcm.googleapis.com/x",
                &P256DH.replace('B', "C"),
                AUTH,
                "keys.p256dh",
            ),
            (
                "https://fcm.googleapis.com/x",
                P256DH,
                "c2hvcnQ",
                "keys.auth",
            ),
            (
                "https://fcm.googleapis.com/x",
                P256DH,
                "not base64!",
                "keys.auth",
            ),
        ];
        for (endpoint, p256dh, auth, field) in cases {
            let problem = check_subscription(&push, endpoint, p256dh, auth).unwrap_err();
            assert_eq!(problem.field(), field, "{endpoint} {p256dh} {auth}");
            assert_eq!(problem.code(), "invalid_push_subscription");
        }
        let long = format!(
            "https://fcm.googleapis.com/{}",
            "a".repeat(MAX_ENDPOINT_CHARS)
        );
        assert_eq!(
            check_subscription(&push, &long, P256DH, AUTH),
            Err(SubscriptionProblem::Endpoint)
        );
    }
}
