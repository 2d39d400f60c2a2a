//! `push.*`: Web Push to nurses' browsers for high-priority alarms (`crate::ward::push`).

use serde::{Deserialize, Serialize};

/// Web Push (RFC 8030 with VAPID, RFC 8292) for high-priority alarms and their escalations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSettings {
    /// Run the push delivery worker on this instance; any number may.
    pub worker: bool,
    /// The contact push services may write to about this server (`mailto:` or `https:`),
    /// sent in every VAPID signature.
    pub contact: String,
    /// The VAPID private key (base64url of the 32-byte P-256 scalar). Unset: the first
    /// instance makes one and stores it in the database, sealed with the record keys. A
    /// secret: shown redacted. Changing it invalidates every browser's subscription.
    pub vapid_private_key: Option<String>,
    /// Hosts a subscription's endpoint may name (an entry matches that host and its
    /// sub-domains). The defaults are the push services of Chrome/Edge (FCM, WNS), Firefox
    /// and Safari; a subscription elsewhere is refused, so the server never posts to a host
    /// a signed-in user picked.
    pub endpoint_hosts: Vec<String>,
    /// Timeout of one request to a push service (ms).
    pub timeout_ms: u64,
    /// How long a push service keeps a message for a browser that is offline (s); an alarm
    /// older than this is news on the nurse station, not on the phone.
    pub ttl_secs: u64,
    /// Requests per message before it is given up (`failed`); the wait doubles from 2 s.
    pub max_attempts: u32,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            worker: true,
            contact: "mailto:it@hospital.example".into(),
            vapid_private_key: None,
            endpoint_hosts: [
                "fcm.googleapis.com",
                "updates.push.services.mozilla.com",
                "push.apple.com",
                "notify.windows.com",
            ]
            .map(String::from)
            .to_vec(),
            timeout_ms: 5_000,
            ttl_secs: 600,
            max_attempts: 6,
        }
    }
}

impl PushSettings {
    /// Whether `host` is one of [`Self::endpoint_hosts`] or a sub-domain of one.
    pub fn endpoint_host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.endpoint_hosts.iter().any(|allowed| {
            let allowed = allowed.trim_end_matches('.').to_ascii_lowercase();
            host == allowed
                || host
                    .strip_suffix(&allowed)
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_host_must_be_a_listed_host_or_a_sub_domain_of_one() {
        let push = PushSettings::default();
        assert!(push.endpoint_host_allowed("fcm.googleapis.com"));
        assert!(push.endpoint_host_allowed("web.push.apple.com"));
        assert!(push.endpoint_host_allowed("DB5P.notify.windows.com."));
        assert!(!push.endpoint_host_allowed("evilfcm.googleapis.com.attacker.example"));
        assert!(!push.endpoint_host_allowed("notfcm.googleapis.com.example"));
        assert!(!push.endpoint_host_allowed("xpush.apple.com"));
        assert!(!push.endpoint_host_allowed("127.0.0.1"));
    }
}
