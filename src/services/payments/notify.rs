//! `POST /payments/wechat/notify`: a notification counts only when its signature verifies with
//! the platform key its serial names, its timestamp is within 5 minutes, its nonce is new, its
//! resource decrypts with the APIv3 key, and what it says matches the order.
use campus_photo_wechatpay::notification::{
    self, NotificationHeaders, RefundResource, Transaction, VerifyError,
};

use super::{
    apply::{self, Applied, ApplyError},
    nonces::Claim,
};
use crate::{AppState, error::AppError};

/// WeChat's own bound on clock skew for signed messages.
pub const MAX_SKEW_SECS: i64 = 300;
const MAX_NONCE_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("nonce already used")]
    Replayed,
    #[error("this notification is being applied by another request")]
    Busy,
    #[error("{0} does not match the order")]
    Mismatch(&'static str),
    #[error("no such order")]
    UnknownOrder,
    #[error("resource does not parse: {0}")]
    Malformed(String),
    #[error("internal error")]
    App(#[from] AppError),
}

impl From<ApplyError> for NotifyError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Mismatch(what) => Self::Mismatch(what),
            ApplyError::UnknownOrder => Self::UnknownOrder,
            ApplyError::App(e) => Self::App(e),
        }
    }
}

impl NotifyError {
    /// The HTTP status of the reply; WeChat retries anything but 2xx.
    pub fn status(&self) -> u16 {
        match self {
            Self::Verify(_) | Self::Replayed => 401,
            Self::Mismatch(_) | Self::Malformed(_) => 400,
            Self::UnknownOrder => 404,
            // WeChat retries; by then the other request has finished or is known to be gone.
            Self::Busy => 503,
            Self::App(_) => 500,
        }
    }
}

/// Verifies and applies one notification.
pub async fn handle(
    state: &AppState,
    headers: &NotificationHeaders,
    body: &[u8],
) -> Result<Applied, NotifyError> {
    let now = state.clock.now();
    let verified = notification::verify_and_decrypt(
        headers,
        body,
        &state.pay_trust.platform_keys,
        &state.pay_trust.apiv3_key,
        now.timestamp(),
        MAX_SKEW_SECS,
    )?;
    if headers.nonce.is_empty() || headers.nonce.len() > MAX_NONCE_LEN {
        return Err(NotifyError::Malformed("Wechatpay-Nonce".into()));
    }
    match state.nonces.claim(&headers.nonce, now).await? {
        Claim::Fresh => {}
        Claim::Replayed => return Err(NotifyError::Replayed),
        Claim::Busy => return Err(NotifyError::Busy),
    }
    let outcome = apply_verified(state, &verified).await;
    let settled = match &outcome {
        // Our failure, not the notice's: let WeChat's retry of this same request through.
        Err(NotifyError::App(e)) => {
            tracing::warn!(error = %e, "notification failed on our side; its nonce is released for the retry");
            state.nonces.release(&headers.nonce).await
        }
        // Applied, or refused for good: a later copy is a replay.
        _ => state.nonces.complete(&headers.nonce).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "settling a notification nonce failed");
    }
    outcome
}

async fn apply_verified(
    state: &AppState,
    verified: &notification::VerifiedNotification,
) -> Result<Applied, NotifyError> {
    let raw: serde_json::Value = serde_json::from_slice(&verified.plaintext)
        .map_err(|e| NotifyError::Malformed(e.to_string()))?;
    let event_type = verified.notification.event_type.as_str();
    if event_type.starts_with("TRANSACTION.") {
        let t: Transaction = serde_json::from_value(raw.clone())
            .map_err(|e| NotifyError::Malformed(e.to_string()))?;
        Ok(apply::transaction(state, &t, raw).await?)
    } else if event_type.starts_with("REFUND.") {
        let r: RefundResource = serde_json::from_value(raw.clone())
            .map_err(|e| NotifyError::Malformed(e.to_string()))?;
        Ok(apply::refund_outcome(state, &r, raw).await?)
    } else {
        tracing::info!(
            event_type,
            "WeChat Pay notification of a kind we do not use"
        );
        Ok(Applied::Unchanged)
    }
}
