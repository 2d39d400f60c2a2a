//! Turning SIGTERM / SIGINT into the application's stop: SIGTERM (what an orchestrator or a
//! rolling restart sends) drains first — not ready, still serving — then stops; SIGINT (Ctrl+C
//! at a terminal) and any second signal stop at once.

use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first SIGTERM or SIGINT.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT received; shutting down"),
            _ = term => tracing::info!("SIGTERM received; shutting down"),
            _ = token.cancelled() => return,
        }
        token.cancel();
    });
}

/// For `docde serve`: the first SIGTERM cancels `drain` (the application reports not-ready,
/// keeps serving for `http.drain_delay_ms`, then stops); SIGINT, or a second signal of either
/// kind, cancels `shutdown` (stop now, still letting requests in flight finish).
pub fn drain_on_signal(drain: CancellationToken, shutdown: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminated = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminated = std::future::pending::<()>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("SIGINT received; shutting down");
                    break;
                }
                _ = terminated => {
                    if drain.is_cancelled() {
                        tracing::info!("second SIGTERM received; shutting down now");
                        break;
                    }
                    tracing::info!("SIGTERM received; draining");
                    drain.cancel();
                }
                _ = shutdown.cancelled() => return,
            }
        }
        shutdown.cancel();
    });
}
