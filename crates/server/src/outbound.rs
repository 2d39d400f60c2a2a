//! Outgoing HTTP: the one client the webhooks (error reports, ward escalations) post with.
//! `https://` is verified against the system's certificate store (rustls with the platform
//! verifier) plus any authorities in `outbound.ca_file`; plain `http://` works as well.
//! Built once at start, so a bad CA file stops start-up with a message, not the first alarm.

use std::time::Duration;

use anyhow::Context;

use crate::config::OutboundSettings;

/// How long a new connection may take; each post sets its own overall timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client for outgoing webhooks.
pub fn client(settings: &OutboundSettings) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        // A webhook that redirects elsewhere is misconfigured; do not follow it with the
        // message (it may carry the hook's secret path onwards).
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("docde/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("outbound.ca_file: cannot read {}", path.display()))?;
        let authorities = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
            format!(
                "outbound.ca_file: {} is not a PEM certificate bundle",
                path.display()
            )
        })?;
        anyhow::ensure!(
            !authorities.is_empty(),
            "outbound.ca_file: {} holds no certificate",
            path.display()
        );
        for authority in authorities {
            builder = builder.add_root_certificate(authority);
        }
    }
    builder.build().context("building the outgoing HTTP client")
}
