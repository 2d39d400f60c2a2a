//! The no-op ceiling: `/healthz` with the same generator, at the offered rate and closed loop,
//! so each scenario's booking figures come with what the machine's HTTP path allows beside them.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;

use super::BookingArgs;
use super::http::Prepared;
use super::load::{self, Drive};

/// `/healthz` req/s at the offered rate and at saturation.
pub(super) struct Healthz {
    pub(super) open: f64,
    pub(super) saturation: f64,
    /// Server and generator CPU µs per request in the closed loop.
    pub(super) cpu: Option<(f64, f64)>,
}

pub(super) async fn healthz(
    args: &BookingArgs,
    addr: std::net::SocketAddr,
    server_pid: Option<u32>,
) -> anyhow::Result<Healthz> {
    let n = (u64::from(args.rate.max(10_000)) * args.healthz_seconds.max(1)) as usize;
    let requests = Arc::new(vec![Prepared::get("/healthz", None); n]);
    let ok = |status: u16, _: &Bytes| status == 200;
    let mut open = 0.0;
    if args.rate > 0 {
        let drive = Drive {
            addr,
            connections: args.connections,
            rate: args.rate,
            give_up: Duration::from_secs(10),
        };
        let run = load::run(drive, requests.clone(), ok, Arc::default()).await?;
        let failures = run.records.iter().filter(|r| !r.class).count();
        crate::bench::report(
            &format!("healthz, open loop {}/s", args.rate),
            &mut run.latencies(),
            failures,
            run.elapsed,
        );
        open = run.answered_per_second();
    }
    let drive = Drive {
        addr,
        connections: args.connections,
        rate: 0,
        give_up: Duration::from_secs(10),
    };
    let meter = crate::bench::CpuMeter::start(server_pid);
    let run = load::run(drive, requests, ok, Arc::default()).await?;
    let cpu = meter
        .spent()
        .map(|spent| spent.micros_per(run.records.len()));
    let failures = run.records.iter().filter(|r| !r.class).count();
    crate::bench::report(
        &format!("healthz, closed loop ({} conn)", args.connections),
        &mut run.latencies(),
        failures,
        run.elapsed,
    );
    let saturation = run.answered_per_second();
    if args.rate == 0 {
        open = saturation;
    }
    Ok(Healthz {
        open,
        saturation,
        cpu,
    })
}
