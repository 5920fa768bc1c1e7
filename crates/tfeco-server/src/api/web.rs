//! The web app, served by the node: `GET /` answers `web/index.html`, `GET /assets/{path}` the files of
//! `web/js`, `web/css`, `web/img` and `web/vendor` (e.g. `/assets/js/app.js`), and the node's gold series ([`GOLD_SERIES`]). Every file is embedded in the binary at
//! compile time (`include_dir!`; nothing is read at run time), served with its content type, a strict
//! Content-Security-Policy (scripts, styles and connections to this node only: no inline script), and
//! `Cache-Control: no-cache` with a strong `ETag` (blake3 of the bytes), so a browser revalidates each
//! file and gets `304 Not Modified` while it is unchanged. Only the extensions of [`content_type`] are
//! served; any other path is 404 `not_found`.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};
use tfeco_api::ErrorCode;

use crate::api::error::ApiError;

/// The route of the static files (an axum wildcard: `path` is the rest after `/assets/`).
pub const ASSETS_ROUTE: &str = "/assets/{*path}";

/// The policy sent with every file: everything from this node only, no inline script or style attribute,
/// no plugins, no framing, no `<base>` change; images may also be `data:` URLs (uPlot's legend markers).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The monthly gold series the node is built with (`data/gold-prices/monthly.csv`, `Date,Price` in USD per
/// troy ounce), served at `/assets/data/gold-monthly.csv` for the dashboard's chart of the CC price.
pub const GOLD_SERIES: &str = "data/gold-monthly.csv";

static INDEX_HTML: &[u8] = include_bytes!("../../web/index.html");
static JS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web/js");
static CSS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web/css");
static VENDOR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web/vendor");
static IMG: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web/img");

/// The content type of a served file by its extension, or `None` for a file that is not served (e.g. the
/// `README.md` next to the scripts).
pub fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension)?;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

/// The embedded bytes and content type of `/assets/{path}`, or `None` (no such file, or not served).
pub fn asset_bytes(path: &str) -> Option<(&'static [u8], &'static str)> {
    if path == GOLD_SERIES {
        return Some((tfeco_core::catalogue::GOLD_MONTHLY_CSV.as_bytes(), "text/csv; charset=utf-8"));
    }
    let (top, rest) = path.split_once('/')?;
    let dir = match top {
        "js" => &JS,
        "css" => &CSS,
        "vendor" => &VENDOR,
        "img" => &IMG,
        _ => return None,
    };
    if rest.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return None;
    }
    let file = dir.get_file(rest)?;
    Some((file.contents(), content_type(rest)?))
}

/// `GET /`: the web app's page.
pub async fn index(request_headers: HeaderMap) -> Response {
    serve(&request_headers, INDEX_HTML, "text/html; charset=utf-8")
}

/// `GET /assets/{path}`: an embedded file of the web app; 404 `not_found` for any other path.
pub async fn asset(Path(path): Path<String>, request_headers: HeaderMap) -> Result<Response, ApiError> {
    let (bytes, content_type) = asset_bytes(&path)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no asset /assets/{path}")))?;
    Ok(serve(&request_headers, bytes, content_type))
}

/// The answer for one file: 304 when the request's `If-None-Match` names its ETag, else 200 with the bytes.
fn serve(request_headers: &HeaderMap, bytes: &'static [u8], content_type: &'static str) -> Response {
    let etag = format!("\"{}\"", &blake3::hash(bytes).to_hex()[..32]);
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response =
        if not_modified { StatusCode::NOT_MODIFIED.into_response() } else { bytes.into_response() };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_script_and_style_is_served_with_its_type() {
        assert_eq!(asset_bytes("js/app.js").map(|(_, t)| t), Some("text/javascript; charset=utf-8"));
        assert_eq!(asset_bytes("css/app.css").map(|(_, t)| t), Some("text/css; charset=utf-8"));
        assert_eq!(asset_bytes("vendor/vendor.js").map(|(_, t)| t), Some("text/javascript; charset=utf-8"));
        assert!(asset_bytes("js/lib/api.js").is_some());
        assert_eq!(asset_bytes(GOLD_SERIES).map(|(b, _)| &b[..11]), Some(&b"Date,Price\n"[..]));
        for page in ["dashboard", "wallet", "market"] {
            assert!(asset_bytes(&format!("js/pages/{page}.js")).is_some(), "{page}");
        }
    }

    #[test]
    fn other_paths_are_not_served() {
        for path in [
            "js/README.md",
            "js/../index.html",
            "../Cargo.toml",
            "js//app.js",
            "node_modules/x.js",
            "js/nope.js",
            "js",
        ] {
            assert_eq!(asset_bytes(path), None, "{path}");
        }
    }

    #[test]
    fn the_page_loads_no_inline_script() {
        let html = std::str::from_utf8(INDEX_HTML).expect("utf-8");
        assert!(html.contains(r#"<script type="module" src="/assets/js/app.js"></script>"#));
        assert_eq!(html.matches("<script").count(), 1, "one external module script, nothing inline");
        assert!(!html.contains("style="), "no inline style attribute (the CSP refuses it)");
        assert!(html.contains(r#"data-testid="dev-mode""#));
    }

    /// The served answers through the real router: types, the policy, the ETag revalidation, JSON 404s.
    mod http {
        use axum::body::Body;
        use axum::http::{header, Request, StatusCode};
        use tfeco_core::{Genesis, Params};
        use tower::ServiceExt as _;

        use crate::app::AppState;
        use crate::{ClockMode, ReplayOptions, Replica, ServerConfig};

        fn router() -> axum::Router {
            let operator = tfeco_core::AccountKey([7; 32]);
            let genesis = || Genesis {
                params: Params::tfgrid4_2025(operator),
                catalogue: tfeco_core::parse_catalogue_csv(tfeco_core::CATALOGUE_Q4_2025_CSV).unwrap(),
                start_time: 1_764_547_200,
            };
            let journal = Box::new(tfeco_journal::MemoryJournal::new());
            let node = Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0;
            let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
            let (writer, _thread) =
                crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
            let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
            crate::api::router::router(AppState::new(node, writer, config))
        }

        async fn send(router: &axum::Router, uri: &str, etag: Option<&str>) -> axum::response::Response {
            let mut request = Request::get(uri);
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
        }

        #[tokio::test]
        async fn the_page_and_its_assets_are_served_with_policy_types_and_etags() {
            let router = router();
            let page = send(&router, "/", None).await;
            assert_eq!(page.status(), StatusCode::OK);
            assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(page.headers()[header::CONTENT_SECURITY_POLICY], super::CONTENT_SECURITY_POLICY);
            assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
            let script = send(&router, "/assets/js/app.js", None).await;
            assert_eq!(script.status(), StatusCode::OK);
            assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
            assert_eq!(script.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            let etag = script.headers()[header::ETAG].to_str().unwrap().to_owned();
            let again = send(&router, "/assets/js/app.js", Some(&etag)).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
            let other = send(&router, "/assets/css/app.css", Some(&etag)).await;
            assert_eq!(other.status(), StatusCode::OK, "another file's ETag does not match");
            let gold = send(&router, "/assets/data/gold-monthly.csv", None).await;
            assert_eq!(gold.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        }

        #[tokio::test]
        async fn a_missing_asset_is_a_json_not_found() {
            let router = router();
            for uri in ["/assets/js/nope.js", "/assets/js/README.md", "/assets/../Cargo.toml", "/assets/"] {
                let response = send(&router, uri, None).await;
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
                let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
                let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(body["code"], "not_found", "{uri}: {body}");
            }
        }
    }
}
