//! POST /graphql (JSON or multipart uploads, batches capped) and GET /graphql (queries only).
use async_graphql::{
    BatchRequest, BatchResponse, Request,
    http::MultipartOptions,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql_axum::GraphQLResponse;
use axum::{
    body::{Body, to_bytes},
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{ClientIp, HttpState};
use crate::{
    graphql::{loaders::new_loader, request_shape},
    services::sessions,
};

/// Multipart bodies carry the upload plus the operations JSON and part headers.
const MULTIPART_OVERHEAD: usize = 256 * 1024;

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

/// A request refused for its shape, before any parsing: 400 with the refusal's code.
fn refused(refusal: request_shape::Refusal) -> Response {
    error_response(StatusCode::BAD_REQUEST, refusal.code, &refusal.message)
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Who is asking, read once per HTTP request.
async fn authenticate(state: &HttpState, headers: &HeaderMap) -> Result<sessions::Auth, Response> {
    sessions::authenticate(&state.app, bearer_token(headers))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authentication lookup failed");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL_SERVER_ERROR",
                "服务暂时不可用，请稍后再试",
            )
        })
}

/// Attaches the per-request data: who is asking and a fresh DataLoader.
fn prepare(state: &HttpState, auth: &sessions::Auth, ip: ClientIp, request: Request) -> Request {
    request
        .data(auth.clone())
        .data(ip)
        .data(new_loader(state.app.clone()))
}

/// Files one multipart request may carry, and paths its `map` may point them to. async-graphql
/// opens a file handle for every mapped path, so an unbounded map (300 000 paths to one file)
/// ran the process out of file descriptors.
const MAX_FILES: usize = 2;
const MAX_MAPPED_PATHS: usize = 10;

/// Reads the `map` part (it comes before the files) and refuses more files or paths than allowed.
async fn check_multipart_map(content_type: &str, body: &bytes::Bytes) -> Result<(), Response> {
    let bad = |message: String| error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
    let boundary = multer::parse_boundary(content_type).map_err(|e| bad(e.to_string()))?;
    let body = body.clone();
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(e.to_string()))?
    {
        match field.name() {
            Some("operations") => continue,
            Some("map") => {
                let text = field.text().await.map_err(|e| bad(e.to_string()))?;
                request_shape::json_nesting(text.as_bytes(), 4)
                    .map_err(|_| bad("the multipart map nests too deep".into()))?;
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&text)
                        .map_err(|e| bad(format!("invalid multipart map: {e}")))?;
                let paths: usize = map.values().map(|v| v.as_array().map_or(1, Vec::len)).sum();
                if map.len() > MAX_FILES || paths > MAX_MAPPED_PATHS {
                    return Err(bad(format!(
                        "a request may carry at most {MAX_FILES} files mapped to at most {MAX_MAPPED_PATHS} variables"
                    )));
                }
                return Ok(());
            }
            // Files before the map: async-graphql refuses that order itself.
            _ => return Ok(()),
        }
    }
    Ok(())
}

pub async fn post(
    State(state): State<HttpState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = &state.app.config.limits;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_multipart = content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    // Every upload needs a signed-in account: an anonymous one is refused before its body is read.
    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    if is_multipart && !matches!(auth, sessions::Auth::SignedIn(_)) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "请先登录再上传文件",
        );
    }
    let limit = if is_multipart {
        limits.max_upload_bytes + MULTIPART_OVERHEAD
    } else {
        limits.max_json_body_bytes
    };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let message = if is_multipart {
                format!(
                    "文件过大：上传不能超过 {} MB",
                    limits.max_upload_bytes / (1024 * 1024)
                )
            } else {
                format!("request body exceeds {} bytes", limits.max_json_body_bytes)
            };
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", &message);
        }
    };
    // serde_json stops at 128 levels on its own; this answers sooner, with the same code as a
    // document that nests too deep. (Multipart bodies are files: their operations part is
    // bounded by serde_json and then by `check_request` below.)
    if !is_multipart
        && let Err(refusal) = request_shape::json_nesting(&bytes, request_shape::MAX_NESTING + 2)
    {
        return refused(refusal);
    }
    if is_multipart
        && let Err(resp) = check_multipart_map(content_type.as_deref().unwrap_or(""), &bytes).await
    {
        return resp;
    }
    let options = MultipartOptions::default()
        // Files up to the body limit reach the resolver, which refuses oversized ones with a
        // FMT_FILE userError the student can read; larger bodies were already cut off with 413.
        .max_file_size(limits.max_upload_bytes + MULTIPART_OVERHEAD)
        .max_num_files(MAX_FILES);
    let batch = match async_graphql::http::receive_batch_body(content_type, bytes.as_ref(), options)
        .await
    {
        Ok(b) => b,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    };
    let (requests, was_batch) = match batch {
        BatchRequest::Single(r) => (vec![r], false),
        BatchRequest::Batch(rs) => {
            if rs.len() > limits.max_batch_size {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BATCH_TOO_LARGE",
                    &format!(
                        "a batch may hold at most {} operations",
                        limits.max_batch_size
                    ),
                );
            }
            (rs, true)
        }
    };
    for r in &requests {
        if let Err(refusal) = request_shape::check_request(&r.query, &r.variables) {
            return refused(refusal);
        }
    }
    let mut prepared: Vec<Request> = requests
        .into_iter()
        .map(|r| prepare(&state, &auth, ip, r))
        .collect();
    let batch = match (was_batch, prepared.pop()) {
        (false, Some(single)) => BatchRequest::Single(single),
        (_, last) => {
            prepared.extend(last);
            BatchRequest::Batch(prepared)
        }
    };
    let response: BatchResponse = state.schema.execute_batch(batch).await;
    GraphQLResponse::from(response).into_response()
}

/// GET serves queries only: a mutation must never run from a link or a prefetch.
pub async fn get_query(
    State(state): State<HttpState>,
    ip: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or(""))
    {
        Ok(r) => r,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    };
    if request.query.is_empty() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing query parameter",
        );
    }
    if let Err(refusal) = request_shape::check_request(&request.query, &request.variables) {
        return refused(refusal);
    }
    // Parsed once here and kept on the request, which async-graphql then does not parse again.
    let operation_name = request.operation_name.clone();
    if let Ok(document) = request.parsed_query() {
        let kind = match &document.operations {
            DocumentOperations::Single(op) => Some(op.node.ty),
            DocumentOperations::Multiple(ops) => operation_name
                .as_deref()
                .and_then(|name| ops.iter().find(|(n, _)| n.as_str() == name))
                .map(|(_, op)| op.node.ty),
        };
        if matches!(
            kind,
            Some(OperationType::Mutation | OperationType::Subscription)
        ) {
            let mut resp = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "mutations and subscriptions are not allowed over GET; use POST",
            );
            resp.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return resp;
        }
    }
    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(resp) => return resp,
    };
    let request = prepare(&state, &auth, ip, request);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}
