//! Without a browser: every embedded file is served with its content type, the page routes
//! serve their pages, and nothing refers to another origin (no CDN, no web fonts, no trackers).

use docde_server::web::{Assets, content_type};

use crate::helpers::spawn_app;

/// The SVG namespace is an identifier that is never fetched; every other absolute URL would be.
const NOT_FETCHED: &[&str] = &["http://www.w3.org/2000/svg"];

#[tokio::test]
async fn every_embedded_file_is_served_with_its_content_type_and_refers_to_no_other_origin() {
    let app = spawn_app().await;
    let files: Vec<String> = Assets::iter().map(|f| f.to_string()).collect();
    for wanted in [
        "index.html",
        "nurse.html",
        "app.html",
        "board.html",
        "common.js",
        "style.css",
    ] {
        assert!(files.iter().any(|f| f == wanted), "{wanted} is embedded");
    }
    for file in &files {
        let expected = content_type(file).unwrap_or_else(|| panic!("{file}: a type we serve"));
        let response = app.get(&format!("/web/{file}")).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-type"], expected, "{file}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'self'"), "{file}: {csp}");
        let mut text = response.text().await.unwrap();
        for allowed in NOT_FETCHED {
            text = text.replace(allowed, "");
        }
        for external in ["http://", "https://", "src=\"//", "href=\"//", "url(//"] {
            assert!(
                !text.contains(external),
                "{file} refers to another origin ({external})"
            );
        }
    }
}

#[tokio::test]
async fn the_page_routes_serve_their_pages_and_unknown_files_are_404() {
    let app = spawn_app().await;
    for (path, marker) in [
        ("/", "/nurse"),
        ("/nurse", "/web/nurse.js"),
        ("/app", "/web/app.js"),
        (
            "/board/0190a0a0-0000-7000-8000-000000000000/internal_medicine",
            "/web/board.js",
        ),
        ("/board?hospital=x&department=y", "/web/board.js"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
        assert!(
            response.text().await.unwrap().contains(marker),
            "{path} serves its page"
        );
    }
    for missing in ["/web/nope.js", "/web/../Cargo.toml", "/web/nurse.html.bak"] {
        assert_eq!(app.get(missing).await.status(), 404, "{missing}");
    }
}
