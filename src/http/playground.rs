//! The developers' and reviewers' pages, served by the binary with no internet access needed:
//! `GET /playground` (GraphiQL bundled by build.rs from playground/, or from its CDN when the
//! build had no npm), its assets and example operations, and `GET /dashboard` (plain JavaScript
//! over the public GraphQL API).
use async_graphql::http::GraphiQLSource;
use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/playground_assets.rs"));
}

pub use assets::{BUNDLED, EXAMPLES};

/// Our pages change with the binary: browsers revalidate them. Bundles carry their hash in the
/// name and are cached for good.
const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The bundled page loads only its own assets and talks only to this origin.
const PLAYGROUND_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; \
     frame-ancestors 'none'; base-uri 'none'";
const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'";

fn respond(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn with_csp(mut response: Response, csp: &'static str) -> Response {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    response
}

pub async fn page() -> Response {
    if BUNDLED {
        let html = format!(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>campus-photo playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/playground/assets/playground-{v}.css">
</head>
<body>
<div id="graphiql" data-endpoint="/graphql" data-subscription-endpoint="/graphql/ws">Loading GraphiQL…</div>
<script src="/playground/assets/playground-{v}.js"></script>
</body>
</html>
"#,
            v = assets::VERSION
        );
        with_csp(
            respond("text/html; charset=utf-8", NO_CACHE, html),
            PLAYGROUND_CSP,
        )
    } else {
        respond("text/html; charset=utf-8", NO_CACHE, Html(cdn_page()))
    }
}

/// Without a bundle: GraphiQL from its CDN, under a note saying how to serve it from the binary.
fn cdn_page() -> String {
    let examples: String = EXAMPLES
        .iter()
        .map(|(file, _)| format!(r#" <a href="/playground/examples/{file}">{file}</a>"#))
        .collect();
    let note = format!(
        r#"<div style="font:14px sans-serif;padding:8px 12px;background:#fff3cd;border-bottom:1px solid #e0c060">
This server was built without npm, so GraphiQL loads from its CDN (it needs internet access) and the
example picker and file uploads are missing. To serve it from the binary, install Node.js (18 or later)
with npm, then <code>touch playground/package.json</code> and rebuild (<code>cargo run --release</code>).
Examples:{examples}</div>"#
    );
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("campus-photo playground")
        .finish();
    page.replacen("<body>", &format!("<body>{note}"), 1)
}

/// The bundle, gzipped for browsers that accept it (the script shrinks to about a third).
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (content_type, plain, gzipped) =
        if BUNDLED && file == format!("playground-{}.js", assets::VERSION) {
            ("text/javascript; charset=utf-8", assets::JS, assets::JS_GZ)
        } else if BUNDLED && file == format!("playground-{}.css", assets::VERSION) {
            ("text/css; charset=utf-8", assets::CSS, assets::CSS_GZ)
        } else {
            return StatusCode::NOT_FOUND.into_response();
        };
    send_maybe_gzipped(&headers, content_type, IMMUTABLE, plain, gzipped)
}

/// `plain`, or `gzipped` to a browser that accepts gzip (when there is a gzipped copy).
fn send_maybe_gzipped(
    headers: &HeaderMap,
    content_type: &'static str,
    cache: &'static str,
    plain: &'static [u8],
    gzipped: &'static [u8],
) -> Response {
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        });
    let mut response = if accepts_gzip && !gzipped.is_empty() {
        let mut response = respond(content_type, cache, gzipped);
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        respond(content_type, cache, plain)
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// `[{"file": "01-….graphql", "text": "…"}]`, in flow order. Hidden (404) when introspection
/// is off: the examples spell out the schema.
pub async fn examples(State(state): State<super::HttpState>) -> Response {
    if !state.app.config.introspection {
        return StatusCode::NOT_FOUND.into_response();
    }
    let list: Vec<serde_json::Value> = EXAMPLES
        .iter()
        .map(|(file, text)| serde_json::json!({ "file": file, "text": text }))
        .collect();
    respond("application/json", NO_CACHE, Json(list))
}

pub async fn example(State(state): State<super::HttpState>, Path(file): Path<String>) -> Response {
    if !state.app.config.introspection {
        return StatusCode::NOT_FOUND.into_response();
    }
    match EXAMPLES.iter().find(|(name, _)| *name == file) {
        Some((_, text)) => respond("text/plain; charset=utf-8", NO_CACHE, *text),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub async fn dashboard() -> Response {
    with_csp(
        respond(
            "text/html; charset=utf-8",
            NO_CACHE,
            include_str!("../../playground/dashboard/index.html"),
        ),
        DASHBOARD_CSP,
    )
}

pub async fn dashboard_js() -> Response {
    respond(
        "text/javascript; charset=utf-8",
        NO_CACHE,
        include_str!("../../playground/dashboard/dashboard.js"),
    )
}

pub async fn dashboard_css() -> Response {
    respond(
        "text/css; charset=utf-8",
        NO_CACHE,
        include_str!("../../playground/dashboard/dashboard.css"),
    )
}

/// The dashboard's chart library (Chart.js, bundled by build.rs from playground/). Empty (and the
/// dashboard shows its numbers as tables only) when the build had no npm.
pub async fn dashboard_charts(headers: HeaderMap) -> Response {
    send_maybe_gzipped(
        &headers,
        "text/javascript; charset=utf-8",
        NO_CACHE,
        assets::CHARTS_JS,
        assets::CHARTS_JS_GZ,
    )
}
