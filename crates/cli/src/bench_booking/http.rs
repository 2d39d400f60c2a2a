//! A lean HTTP/1.1 client: one keep-alive connection, requests built from prepared parts.
//!
//! The generator shares two cores with the server, so every microsecond it spends per request
//! is taken from the server. hyper's connection API costs less than a pooled client and, more
//! importantly, never opens a connection behind our back: each load worker owns exactly one,
//! so the connection count stays what `--connections` says even when the server falls behind.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request, prepared before the run so the hot loop only clones reference-counted parts.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    /// Path and query, parsed once.
    pub uri: Uri,
    /// `Bearer …`, shared between all requests of one user.
    pub authorization: Option<HeaderValue>,
    pub idempotency_key: Option<HeaderValue>,
    /// JSON body (empty for GET).
    pub body: Bytes,
}

impl Prepared {
    pub fn get(path: impl Into<String>, authorization: Option<HeaderValue>) -> Self {
        Self {
            method: Method::GET,
            uri: uri(path.into()),
            authorization,
            idempotency_key: None,
            body: Bytes::new(),
        }
    }

    pub fn json(
        method: Method,
        path: impl Into<String>,
        authorization: Option<HeaderValue>,
        body: &serde_json::Value,
    ) -> Self {
        Self {
            method,
            uri: uri(path.into()),
            authorization,
            idempotency_key: None,
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        }
    }

    fn build(&self, host: &HeaderValue) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, host.clone());
        if let Some(auth) = &self.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        if let Some(key) = &self.idempotency_key {
            headers.insert("idempotency-key", key.clone());
        }
        if !self.body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// A path as a request target (`/` if it is not one: the server's 404 will say so).
fn uri(path: String) -> Uri {
    Uri::try_from(path).unwrap_or_default()
}

/// `Bearer <token>` as a header value.
pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_maybe_shared(Bytes::from(format!("Bearer {token}")))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"))
}

/// A status and the whole response body.
pub type Answer = (u16, Bytes);

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// Sends `request` and reads the whole answer. An error means the connection is unusable.
    pub async fn send(&mut self, request: &Prepared) -> anyhow::Result<Answer> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request.build(&self.host)).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// Sends one request on a fresh connection (setup and checks, not the measured load).
pub async fn once(addr: SocketAddr, request: &Prepared) -> anyhow::Result<Answer> {
    Connection::open(addr).await?.send(request).await
}
