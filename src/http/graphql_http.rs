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
use crate::{graphql::loaders::new_loader, services::sessions};

/// Multipart bodies carry the upload plus the operations JSON and part headers.
const MULTIPART_OVERHEAD: usize = 256 * 1024;

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Attaches the per-request data: who is asking and a fresh DataLoader.
async fn prepare(
    state: &HttpState,
    headers: &HeaderMap,
    ip: ClientIp,
    request: Request,
) -> Result<Request, Response> {
    let auth = sessions::authenticate(&state.app, bearer_token(headers))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authentication lookup failed");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL_SERVER_ERROR",
                "服务暂时不可用，请稍后再试",
            )
        })?;
    Ok(request
        .data(auth)
        .data(ip)
        .data(new_loader(state.app.clone())))
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
    let options = MultipartOptions::default()
        // Files up to the body limit reach the resolver, which refuses oversized ones with a
        // FMT_FILE userError the student can read; larger bodies were already cut off with 413.
        .max_file_size(limits.max_upload_bytes + MULTIPART_OVERHEAD)
        .max_num_files(2);
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
    let mut prepared = Vec::with_capacity(requests.len());
    for r in requests {
        match prepare(&state, &headers, ip, r).await {
            Ok(r) => prepared.push(r),
            Err(resp) => return resp,
        }
    }
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
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
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
    if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
        let kind = match &document.operations {
            DocumentOperations::Single(op) => Some(op.node.ty),
            DocumentOperations::Multiple(ops) => request
                .operation_name
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
    let request = match prepare(&state, &headers, ip, request).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}
