//! POST /graphql (JSON or multipart uploads, batches capped) and GET /graphql (queries only).
use async_graphql::{
    BatchRequest, BatchResponse, Request,
    http::MultipartOptions,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql_axum::GraphQLResponse;
use axum::{
    body::Body,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{ClientIp, HttpState};
use crate::{
    config::Limits,
    graphql::{loaders::new_loader, request_shape},
    services::sessions,
};

/// Multipart bodies carry the upload plus the operations JSON and part headers.
const MULTIPART_OVERHEAD: usize = 256 * 1024;

/// An answer refused before the schema saw the request: the error with its code, and
/// `extensions.cost` with the limits (nothing was measured).
fn error_response(limits: &Limits, status: StatusCode, code: &str, message: &str) -> Response {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    let body = async_graphql::Response::from_errors(vec![error]).extension("cost", no_cost(limits));
    let mut response = GraphQLResponse::from(body).into_response();
    *response.status_mut() = status;
    response
}

fn no_cost(limits: &Limits) -> async_graphql::Value {
    crate::graphql::cost::cost_value(
        None,
        None,
        limits.max_query_complexity,
        limits.max_query_depth,
    )
}

/// A request refused for its shape, before any parsing: 400 with the refusal's code.
fn refused(limits: &Limits, refusal: request_shape::Refusal) -> Response {
    error_response(
        limits,
        StatusCode::BAD_REQUEST,
        refusal.code,
        &refusal.message,
    )
}

/// The bearer token of the Authorization header: `Ok(None)` when there is no header, `Err` when
/// there is one but it is not `Bearer <token>` (a client that sent credentials is told they were
/// not understood, rather than being served as anonymous).
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, sessions::Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = sessions::Rejection::Malformed;
    let value = value.to_str().map_err(|_| malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(malformed);
    }
    Ok(Some(token))
}

/// Who is asking, read once per HTTP request.
async fn authenticate(state: &HttpState, headers: &HeaderMap) -> Result<sessions::Auth, Response> {
    let token = match bearer_token(headers) {
        Ok(token) => token,
        Err(why) => return Ok(sessions::Auth::Rejected(why)),
    };
    sessions::authenticate(&state.app, token)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authentication lookup failed");
            error_response(
                &state.app.config.limits,
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
async fn check_multipart_map(
    limits: &Limits,
    content_type: &str,
    body: &bytes::Bytes,
) -> Result<(), Response> {
    let bad =
        |message: String| error_response(limits, StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
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

/// A body read up to a limit.
enum Body_ {
    Whole(bytes::Bytes),
    /// The first `limit` bytes of a longer body.
    Cut(bytes::Bytes),
}

/// How much of a body past its limit is read and dropped, so that the client (still sending)
/// reads the answer rather than a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn read_limited(body: Body, limit: usize) -> Result<Body_, axum::Error> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buffer = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if buffer.len() + chunk.len() > limit {
            let room = limit - buffer.len();
            buffer.extend_from_slice(&chunk[..room]);
            let mut drained = chunk.len() - room;
            while drained < DRAIN_LIMIT
                && let Some(Ok(chunk)) = stream.next().await
            {
                drained += chunk.len();
            }
            return Ok(Body_::Cut(buffer.freeze()));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Body_::Whole(buffer.freeze()))
}

/// The operation of a multipart body cut off at the limit: its `operations` and `map` (which come
/// first), the files received whole, and an empty file in place of each one cut off or never
/// reached, marked as [`OversizedUploads`] for the resolver to refuse. `None` when the body is
/// not one operation with its map before the files.
async fn cut_off_upload(
    content_type: &str,
    prefix: bytes::Bytes,
    max_upload_bytes: usize,
) -> Option<Request> {
    use crate::graphql::mutation::OversizedUploads;
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(prefix) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let (mut operations, mut map) = (None, None);
    // Files received whole: part name → (file name, content type, bytes).
    let mut whole: std::collections::HashMap<String, (String, Option<String>, bytes::Bytes)> =
        Default::default();
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name()?.to_string();
        match name.as_str() {
            "operations" => operations = Some(field.text().await.ok()?),
            "map" => map = Some(field.text().await.ok()?),
            _ => {
                let file_name = field.file_name().unwrap_or("upload").to_string();
                let mime = field.content_type().map(|m| m.to_string());
                let mut data = bytes::BytesMut::new();
                let complete = loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) if data.len() + chunk.len() <= max_upload_bytes => {
                            data.extend_from_slice(&chunk);
                        }
                        Ok(None) => break true,
                        Ok(Some(_)) | Err(_) => break false,
                    }
                };
                if !complete {
                    break;
                }
                whole.insert(name, (file_name, mime, data.freeze()));
            }
        }
    }
    let operations = operations?;
    request_shape::json_nesting(operations.as_bytes(), request_shape::MAX_NESTING + 2).ok()?;
    let mut request: Request = serde_json::from_str(&operations).ok()?;
    let map = map?;
    request_shape::json_nesting(map.as_bytes(), 4).ok()?;
    let map: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_str(&map).ok()?;
    let paths: usize = map.values().map(Vec::len).sum();
    if map.len() > MAX_FILES || paths > MAX_MAPPED_PATHS {
        return None;
    }
    let mut oversized = OversizedUploads {
        indices: Vec::new(),
        max_bytes: max_upload_bytes,
    };
    for (part, paths) in &map {
        for path in paths {
            let mut file = tempfile::tempfile().ok()?;
            let (file_name, mime, cut) = match whole.get(part) {
                Some((name, mime, data)) => {
                    std::io::Write::write_all(&mut file, data).ok()?;
                    std::io::Seek::rewind(&mut file).ok()?;
                    (name.clone(), mime.clone(), false)
                }
                None => ("upload".to_string(), None, true),
            };
            let index = request.uploads.len();
            request.set_upload(
                path,
                async_graphql::UploadValue {
                    filename: file_name,
                    content_type: mime,
                    content: file,
                },
            );
            if cut && request.uploads.len() > index {
                oversized.indices.push(index);
            }
        }
    }
    Some(request.data(oversized))
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
    if is_multipart {
        let refusal = match &auth {
            sessions::Auth::SignedIn(_) => None,
            sessions::Auth::Anonymous => Some("请先登录再上传文件"),
            sessions::Auth::Rejected(why) => Some(why.message()),
        };
        if let Some(message) = refusal {
            return error_response(limits, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
        }
    }
    let limit = if is_multipart {
        limits.max_upload_bytes + MULTIPART_OVERHEAD
    } else {
        limits.max_json_body_bytes
    };
    let bytes = match read_limited(body, limit).await {
        Ok(Body_::Whole(b)) => b,
        Ok(Body_::Cut(prefix)) if is_multipart => {
            // A file past the limit is the student's to fix: the operation runs and the
            // resolver answers FMT_FILE, naming the limit (only a body that is not a single
            // operation with its map first is refused with 413).
            let content_type = content_type.as_deref().unwrap_or("");
            if let Some(request) =
                cut_off_upload(content_type, prefix, limits.max_upload_bytes).await
                && request_shape::check_request(&request.query, &request.variables).is_ok()
            {
                let request = prepare(&state, &auth, ip, request);
                return GraphQLResponse::from(state.schema.execute(request).await).into_response();
            }
            let message = format!(
                "文件过大：上传不能超过 {} MB",
                limits.max_upload_bytes / (1024 * 1024)
            );
            return error_response(
                limits,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &message,
            );
        }
        Ok(Body_::Cut(_)) | Err(_) => {
            let message = format!("request body exceeds {} bytes", limits.max_json_body_bytes);
            return error_response(
                limits,
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &message,
            );
        }
    };
    // serde_json stops at 128 levels on its own; this answers sooner, with the same code as a
    // document that nests too deep. (Multipart bodies are files: their operations part is
    // bounded by serde_json and then by `check_request` below.)
    if !is_multipart
        && let Err(refusal) = request_shape::json_nesting(&bytes, request_shape::MAX_NESTING + 2)
    {
        return refused(limits, refusal);
    }
    if is_multipart
        && let Err(resp) =
            check_multipart_map(limits, content_type.as_deref().unwrap_or(""), &bytes).await
    {
        return resp;
    }
    let options = MultipartOptions::default()
        // Files up to the body limit reach the resolver, which refuses oversized ones with a
        // FMT_FILE userError the student can read; larger bodies were cut off above, and their
        // files are refused the same way.
        .max_file_size(limits.max_upload_bytes + MULTIPART_OVERHEAD)
        .max_num_files(MAX_FILES);
    let batch = match async_graphql::http::receive_batch_body(content_type, bytes.as_ref(), options)
        .await
    {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                limits,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &e.to_string(),
            );
        }
    };
    let (requests, was_batch) = match batch {
        BatchRequest::Single(r) => (vec![r], false),
        BatchRequest::Batch(rs) => {
            if rs.len() > limits.max_batch_size {
                return error_response(
                    limits,
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
            return refused(limits, refusal);
        }
    }
    let mut prepared: Vec<Request> = requests
        .into_iter()
        .map(|r| prepare(&state, &auth, ip, r))
        .collect();
    let response: BatchResponse = match (was_batch, prepared.pop()) {
        (false, Some(single)) => BatchResponse::Single(state.schema.execute(single).await),
        (_, last) => {
            prepared.extend(last);
            let batch = BatchRequest::Batch(prepared);
            state.schema.strict.execute_batch(batch).await
        }
    };
    GraphQLResponse::from(response).into_response()
}

/// GET serves queries only: a mutation must never run from a link or a prefetch.
pub async fn get_query(
    State(state): State<HttpState>,
    ip: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let limits = &state.app.config.limits;
    let mut request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or(""))
    {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                limits,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &e.to_string(),
            );
        }
    };
    // A document sent by hash gets its text first, so that what it is (a mutation?) is known.
    if (request.query.is_empty() || state.app.config.trusted_documents.is_some())
        && let Err(error) = crate::graphql::documents::resolve(&state.app, &mut request).await
    {
        let body =
            async_graphql::Response::from_errors(vec![error]).extension("cost", no_cost(limits));
        return GraphQLResponse::from(body).into_response();
    }
    if request.query.is_empty() {
        return error_response(
            limits,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing query parameter",
        );
    }
    if let Err(refusal) = request_shape::check_request(&request.query, &request.variables) {
        return refused(limits, refusal);
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
                limits,
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
