//! Reading and verifying collection codes (图像采集码). Nothing is saved here.
use std::time::Duration;

use campus_photo_codes::{QrReadError, token::Claims};
use chrono::{DateTime, Utc};

use crate::{
    AppState,
    error::{AppError, AppResult},
    services::cpu,
};

/// What the code says, for the student to check before adding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInfo {
    pub text: String,
    pub claims: Claims,
    pub expires_at: DateTime<Utc>,
}

pub const QR_NOT_FOUND_MESSAGE: &str = "未识别到采集码。请在学信网页面长按二维码“保存图片”后上传原图，不要截屏；如需拍照，请将二维码放平、对准并拍清晰";

/// How long one picture may be searched for a code.
pub const QR_BUDGET: Duration = Duration::from_secs(4);

/// Verifies the token text against the configured issuer keys and the clock.
pub fn verify_text(state: &AppState, text: &str, field: &str) -> AppResult<CodeInfo> {
    let now = state.clock.now();
    let claims = state.keyring.verify(text, now.timestamp()).map_err(|e| {
        let message = match e.code() {
            "COLLECTION_CODE_EXPIRED" => "采集码已过期，请在学信网重新获取图像采集码",
            _ => "不是有效的图像采集码，请确认扫描的是学信网签发的采集码",
        };
        AppError::user(e.code(), field, message)
    })?;
    let expires_at = DateTime::from_timestamp(claims.exp, 0)
        .ok_or_else(|| AppError::user("COLLECTION_CODE_INVALID", field, "采集码有效期无效"))?;
    Ok(CodeInfo {
        text: text.trim().to_string(),
        claims,
        expires_at,
    })
}

/// Finds the QR code in an uploaded picture (decoded under the upload limits, in the CPU pool)
/// and verifies it.
pub async fn decode_image(state: &AppState, bytes: Vec<u8>) -> AppResult<CodeInfo> {
    let limits = state.decode_limits();
    let text = cpu::run(state, move || {
        let decoded = campus_photo_imaging::decode_upload(&bytes, &limits)
            .map_err(|e| AppError::user("FMT_FILE", "image", e.user_message()))?;
        let image = image::DynamicImage::ImageRgb8(decoded.image);
        campus_photo_codes::read_qr(&image, QR_BUDGET).map_err(|e: QrReadError| {
            tracing::debug!(reason = %e, "no collection code found");
            AppError::user("QR_NOT_FOUND", "image", QR_NOT_FOUND_MESSAGE)
        })
    })
    .await?;
    verify_text(state, &text, "image")
}
