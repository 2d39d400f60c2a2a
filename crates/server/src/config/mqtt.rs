//! `mqtt.*`: MQTT ingest of bedside devices, and the broker URL it connects to.

use serde::{Deserialize, Serialize};

/// MQTT ingest of bedside devices (docs/API.md "MQTT ingest", docs/OPERATIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttSettings {
    /// `mqtt://[user:password@]host[:port]`; unset means no MQTT ingest.
    pub url: Option<String>,
    /// This instance's MQTT client id (suffixed `-1`, `-2`… per connection). Keep it stable
    /// and unique per instance: with `clean_session = false` the broker keeps messages this
    /// instance received but had not yet acknowledged, and hands them over on reconnect.
    /// Unset: `docde-<host name>-<HTTP port>`.
    pub client_id: Option<String>,
    /// Start a fresh broker session on each connect (unacknowledged messages of a crashed
    /// instance are then redelivered only if the broker hands them to another member).
    pub clean_session: bool,
    /// Topics are `<topic_prefix>/devices/<device id>/samples` and so on.
    pub topic_prefix: String,
    /// Shared-subscription group: every instance subscribes as
    /// `$share/<share_group>/<topic>`, so each message goes to one of them.
    pub share_group: String,
    /// Connections per instance (each takes its share of the messages; the broker limits
    /// unacknowledged messages per connection, Mosquitto to 20 by default).
    pub connections: usize,
    /// How long a verified device secret is trusted without looking at the database again;
    /// also how long a revoked device may keep publishing.
    pub credential_cache_ms: u64,
    /// The predecessor's Raspberry Pi topics: `[{topic = "antips/ward-a", ward_id = "…"}]`.
    pub legacy_topics: Vec<LegacyTopic>,
}

/// A topic on which the predecessor's `{"bedNumber", "temperature", "weight"}` payload arrives
/// for one ward.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyTopic {
    pub topic: String,
    pub ward_id: uuid::Uuid,
}

impl Default for MqttSettings {
    fn default() -> Self {
        Self {
            url: None,
            client_id: None,
            clean_session: false,
            topic_prefix: "docde/v1".into(),
            share_group: "docde".into(),
            connections: 2,
            credential_cache_ms: 5_000,
            legacy_topics: Vec::new(),
        }
    }
}

/// Where and as whom to connect to the MQTT broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttBroker {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Parses `mqtt://[user:password@]host[:port]` (`tcp://` is accepted too; TLS is not yet).
pub fn parse_mqtt_url(raw: &str) -> Result<MqttBroker, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "mqtt" | "tcp") {
        return Err("must start with mqtt:// (TLS is not supported yet)".into());
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("needs a host")?
        .to_owned();
    // User info is percent-encoded in a URL (`%40` for `@`).
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'%', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    Ok(MqttBroker {
        host,
        port: url.port().unwrap_or(1883),
        username: (!url.username().is_empty()).then(|| decode(url.username())),
        password: url.password().map(decode),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_urls_name_host_port_and_credentials() {
        let b = parse_mqtt_url("mqtt://docde:s3%40cret@broker.local:1884").unwrap();
        assert_eq!(b.host, "broker.local");
        assert_eq!(b.port, 1884);
        assert_eq!(b.username.as_deref(), Some("docde"));
        assert_eq!(b.password.as_deref(), Some("s3@cret"));
        assert_eq!(parse_mqtt_url("mqtt://127.0.0.1").unwrap().port, 1883);
        assert!(parse_mqtt_url("http://127.0.0.1").is_err());
        assert!(parse_mqtt_url("mqtts://127.0.0.1").is_err());
    }
}
