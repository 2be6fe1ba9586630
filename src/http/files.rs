//! GET /files/{key}?exp=…&sig=…: stored objects, served only through signed, expiring links.
use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::HttpState;
pub use crate::storage::links::{LINK_TTL_SECS, signed_preview_url, signed_url};
use crate::storage::links::{message, preview_message};

/// GET /previews/{photo}.jpg: the standard 480×640 crop, rendered on first request.
pub async fn serve_preview(
    State(state): State<HttpState>,
    Path(file): Path<String>,
    Query(link): Query<LinkParams>,
) -> Response {
    let app = &state.app;
    let photo = file.trim_end_matches(".jpg");
    if !app
        .crypto
        .verify(&preview_message(photo, link.exp), &link.sig)
    {
        return (StatusCode::FORBIDDEN, "invalid link").into_response();
    }
    if link.exp < app.clock.now().timestamp() {
        return (StatusCode::GONE, "link expired").into_response();
    }
    let Some(id) = app.ids.decode_as(crate::ids::NodeType::Photo, photo) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match crate::services::photos::preview(app, id).await {
        Ok(Some(bytes)) => jpeg_response(bytes),
        Ok(None) => (StatusCode::NOT_FOUND, "no preview").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "preview failed");
            (StatusCode::SERVICE_UNAVAILABLE, "preview unavailable").into_response()
        }
    }
}

fn jpeg_response(bytes: bytes::Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"preview.jpg\"",
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LinkParams {
    exp: i64,
    sig: String,
    /// The download's file name (signed with the link).
    name: Option<String>,
}

/// `Content-Disposition` (RFC 6266): a download named `name` — an ASCII `filename` for old
/// clients and the exact UTF-8 name in `filename*` — or, without one, shown in place under the
/// last part of its key.
fn disposition(key: &str, name: Option<&str>) -> header::HeaderValue {
    let value = match name {
        Some(name) => {
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';' | '%') || c == ' ' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                crate::storage::links::percent_encode(name)
            )
        }
        None => {
            let last = key.rsplit('/').next().unwrap_or(key);
            let last: String = last
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            format!("inline; filename=\"{last}\"")
        }
    };
    header::HeaderValue::from_str(&value)
        .unwrap_or_else(|_| header::HeaderValue::from_static("attachment"))
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("zip") => "application/zip",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub async fn serve(
    State(state): State<HttpState>,
    Path(key): Path<String>,
    Query(link): Query<LinkParams>,
) -> Response {
    let app = &state.app;
    if !app
        .crypto
        .verify(&message(&key, link.exp, link.name.as_deref()), &link.sig)
    {
        return (StatusCode::FORBIDDEN, "invalid link").into_response();
    }
    if link.exp < app.clock.now().timestamp() {
        return (StatusCode::GONE, "link expired").into_response();
    }
    match app.storage.get(&key).await {
        Ok(Some(bytes)) => (
            [
                (
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static(content_type(&key)),
                ),
                (
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("private, max-age=600"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    header::HeaderValue::from_static("nosniff"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    disposition(&key, link.name.as_deref()),
                ),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "file read failed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable").into_response()
        }
    }
}
