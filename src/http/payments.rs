//! WeChat Pay's notification endpoint. 204 when the notification was accepted (or was already
//! known); otherwise 4xx/5xx with `{"code":"FAIL","message":…}`, and nothing changed.
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use campus_photo_wechatpay::notification::NotificationHeaders;

use super::HttpState;
use crate::services::payments::notify;

/// WeChat's notifications are a few KiB; anything much larger is not one.
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

pub async fn wechat_notify(
    State(state): State<HttpState>,
    ip: super::ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Checked before any signature work: a flood of forged notices must not cost RSA time.
    if let Err(crate::error::AppError::Throttled { retry_after_secs }) = state
        .app
        .limiter
        .check(
            crate::services::limits::Action::PaymentNotification,
            ip.subject(),
        )
        .await
    {
        state.app.metrics.notification("throttled");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(
                axum::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            )],
            axum::Json(serde_json::json!({ "code": "FAIL", "message": "too many notifications" })),
        )
            .into_response();
    }
    let pairs = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
    let result = match NotificationHeaders::from_pairs(pairs) {
        Ok(h) => notify::handle(&state.app, &h, &body).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(applied) => {
            tracing::info!(?applied, "WeChat Pay notification accepted");
            state.app.metrics.notification("accepted");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            state.app.metrics.notification(if status.is_server_error() {
                "failed"
            } else {
                "refused"
            });
            match &e {
                notify::NotifyError::App(inner) => {
                    tracing::error!(error = %inner, "WeChat Pay notification failed")
                }
                other => tracing::warn!(error = %other, "WeChat Pay notification refused"),
            }
            let message = match &e {
                notify::NotifyError::App(_) => "internal error".to_string(),
                other => other.to_string(),
            };
            (
                status,
                Json(serde_json::json!({ "code": "FAIL", "message": message })),
            )
                .into_response()
        }
    }
}
