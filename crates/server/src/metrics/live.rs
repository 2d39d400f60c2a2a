//! `live_stream_clients{stream}`: open SSE and WebSocket streams on this instance.

/// Counts one open stream while it lives: create it in the task that feeds the stream, so
/// the count drops however the stream ends (client gone, shutdown, error).
pub struct LiveClient(&'static str);

impl LiveClient {
    pub fn open(stream: &'static str) -> Self {
        metrics::gauge!("live_stream_clients", "stream" => stream).increment(1.0);
        Self(stream)
    }
}

impl Drop for LiveClient {
    fn drop(&mut self) {
        metrics::gauge!("live_stream_clients", "stream" => self.0).decrement(1.0);
    }
}
