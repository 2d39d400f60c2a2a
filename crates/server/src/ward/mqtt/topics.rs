//! The MQTT topic scheme (docs/API.md "MQTT ingest"), as pure functions:
//!
//! - `<prefix>/devices/<device id>/samples`: `{"secret", "samples": [...]}`, the HTTP batch
//!   plus the device's secret;
//! - `<prefix>/devices/<device id>/medication-deliveries`: `{"secret", "qrCode"}`;
//! - `<prefix>/devices/<device id>/results`: published by DocDe (QoS 0) when a message was
//!   refused in part or whole, and for every delivery scan;
//! - each configured legacy topic: the predecessor's `{"bedNumber", "temperature", "weight"}`
//!   for one ward.
//!
//! Instances subscribe through the shared group (`$share/<group>/<topic>`), so the broker hands
//! each message to one of them.

use std::collections::HashMap;

use uuid::Uuid;

use crate::config::MqttSettings;

/// What a received topic asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Samples(Uuid),
    Delivery(Uuid),
    /// The predecessor's payload for this ward.
    Legacy(Uuid),
    /// A topic we did not subscribe to, or a device segment that is not an id.
    Unknown,
}

impl Route {
    /// A label for metrics.
    pub fn kind(self) -> &'static str {
        match self {
            Route::Samples(_) => "samples",
            Route::Delivery(_) => "medication_delivery",
            Route::Legacy(_) => "legacy",
            Route::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Topics {
    prefix: String,
    group: String,
    legacy: HashMap<String, Uuid>,
}

impl Topics {
    pub fn new(settings: &MqttSettings) -> Self {
        Self {
            prefix: settings.topic_prefix.trim_end_matches('/').to_owned(),
            group: settings.share_group.clone(),
            legacy: settings
                .legacy_topics
                .iter()
                .map(|l| (l.topic.clone(), l.ward_id))
                .collect(),
        }
    }

    /// The shared subscriptions every instance makes.
    pub fn subscriptions(&self) -> Vec<String> {
        let mut topics = vec![
            format!("{}/devices/+/samples", self.prefix),
            format!("{}/devices/+/medication-deliveries", self.prefix),
        ];
        let mut legacy: Vec<&String> = self.legacy.keys().collect();
        legacy.sort();
        topics.extend(legacy.into_iter().cloned());
        topics
            .into_iter()
            .map(|t| format!("$share/{}/{t}", self.group))
            .collect()
    }

    pub fn route(&self, topic: &str) -> Route {
        if let Some(&ward) = self.legacy.get(topic) {
            return Route::Legacy(ward);
        }
        let Some(rest) = topic
            .strip_prefix(self.prefix.as_str())
            .and_then(|r| r.strip_prefix("/devices/"))
        else {
            return Route::Unknown;
        };
        let Some((device, what)) = rest.split_once('/') else {
            return Route::Unknown;
        };
        let Ok(device) = Uuid::parse_str(device) else {
            return Route::Unknown;
        };
        match what {
            "samples" => Route::Samples(device),
            "medication-deliveries" => Route::Delivery(device),
            _ => Route::Unknown,
        }
    }

    /// Where the answer to a device's message goes.
    pub fn results(&self, device: Uuid) -> String {
        format!("{}/devices/{device}/results", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LegacyTopic;

    fn topics() -> (Topics, Uuid) {
        let ward = Uuid::now_v7();
        let settings = MqttSettings {
            topic_prefix: "docde/v1/".into(),
            share_group: "g".into(),
            legacy_topics: vec![LegacyTopic {
                topic: "antips/ward-a".into(),
                ward_id: ward,
            }],
            ..MqttSettings::default()
        };
        (Topics::new(&settings), ward)
    }

    #[test]
    fn every_instance_subscribes_through_the_shared_group() {
        let (t, _) = topics();
        assert_eq!(
            t.subscriptions(),
            [
                "$share/g/docde/v1/devices/+/samples",
                "$share/g/docde/v1/devices/+/medication-deliveries",
                "$share/g/antips/ward-a",
            ]
        );
    }

    #[test]
    fn topics_route_to_the_device_or_the_legacy_ward() {
        let (t, ward) = topics();
        let device = Uuid::now_v7();
        assert_eq!(
            t.route(&format!("docde/v1/devices/{device}/samples")),
            Route::Samples(device)
        );
        assert_eq!(
            t.route(&format!("docde/v1/devices/{device}/medication-deliveries")),
            Route::Delivery(device)
        );
        assert_eq!(t.route("antips/ward-a"), Route::Legacy(ward));
        for unknown in [
            "docde/v1/devices/not-an-id/samples",
            &format!("docde/v1/devices/{device}/results"),
            &format!("docde/v1/devices/{device}"),
            &format!("other/devices/{device}/samples"),
            "antips/ward-b",
        ] {
            assert_eq!(t.route(unknown), Route::Unknown, "{unknown}");
        }
        assert_eq!(
            t.results(device),
            format!("docde/v1/devices/{device}/results")
        );
    }
}
