//! The web pages people use — nurse station (`/nurse`), patient app (`/app`), lobby board
//! (`/board/…`) and the landing page (`/`) — served from the files in `web/`, compiled into
//! the binary. Plain HTML, CSS and JavaScript modules: no separate web server, no CDN, no build
//! step. The pages talk to the same `/api/v1` as every other client; this module only serves
//! files and must not grow any logic of its own.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::problem::ApiError;
use crate::state::AppState;

/// Everything under `web/` (in debug builds read from disk, so pages can be edited live).
#[derive(RustEmbed)]
#[folder = "../../web"]
pub struct Assets;

/// Pages may load only what this server serves, and only talk to it: a page that tried to
/// reach a CDN or another origin would fail loudly in every browser, not only in review.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The page routes and `/web/{file}` for their scripts and styles.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page("index.html") }))
        .route("/nurse", get(|| async { page("nurse.html") }))
        .route("/app", get(|| async { page("app.html") }))
        .route("/board", get(|| async { page("board.html") }))
        .route(
            "/board/{hospital}/{department}",
            get(|| async { page("board.html") }),
        )
        .route("/web/{*file}", get(asset))
}

/// The content type a file is served with, by its extension; `None` for kinds we do not ship.
pub fn content_type(file: &str) -> Option<&'static str> {
    let extension = file.rsplit_once('.')?.1;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

fn page(file: &str) -> Response {
    serve(file)
}

async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(file: &str) -> Response {
    let (Some(content), Some(content_type)) = (Assets::get(file), content_type(file)) else {
        return ApiError::NotFound.into_response();
    };
    let mut response = content.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Small files, changed with every release: always revalidate rather than go stale.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
