//! WeChat subscription messages (订阅消息) behind a trait: the real sender
//! (`/cgi-bin/message/subscribe/send`) and a sandbox that sends nothing (every message, sent or
//! not, is recorded in `outbound_messages`, where admins read it).
use std::sync::Arc;

use async_trait::async_trait;

use super::wechat_login::WeChatLogin;

/// One message to one student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMessage {
    pub touser: String,
    pub template_id: String,
    pub page: String,
    /// `{"thing1": {"value": "…"}, …}`, each value already within WeChat's length limits.
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// WeChat refused for good (e.g. 43101: the student has not subscribed or used it up).
    #[error("WeChat refused the message: {code} {message}")]
    Refused { code: i64, message: String },
    /// Worth another try later (system busy, network).
    #[error("WeChat unavailable: {0}")]
    Retryable(String),
}

#[async_trait]
pub trait WeChatMessages: Send + Sync {
    /// `WECHAT` or `SANDBOX`, recorded with each message.
    fn provider(&self) -> &'static str;
    async fn send(&self, message: &SubscribeMessage) -> Result<(), SendError>;
}

/// Records only.
pub struct SandboxWeChatMessages;

#[async_trait]
impl WeChatMessages for SandboxWeChatMessages {
    fn provider(&self) -> &'static str {
        "SANDBOX"
    }

    async fn send(&self, _message: &SubscribeMessage) -> Result<(), SendError> {
        Ok(())
    }
}

pub struct RealWeChatMessages {
    http: reqwest::Client,
    base: String,
    login: Arc<dyn WeChatLogin>,
}

impl RealWeChatMessages {
    pub fn new(http: reqwest::Client, base: String, login: Arc<dyn WeChatLogin>) -> Self {
        Self { http, base, login }
    }
}

#[async_trait]
impl WeChatMessages for RealWeChatMessages {
    fn provider(&self) -> &'static str {
        "WECHAT"
    }

    async fn send(&self, message: &SubscribeMessage) -> Result<(), SendError> {
        let body = serde_json::json!({
            "touser": message.touser,
            "template_id": message.template_id,
            "page": message.page,
            "data": message.data,
            "miniprogram_state": "formal",
            "lang": "zh_CN",
        });
        let url = format!("{}/cgi-bin/message/subscribe/send", self.base);
        super::wechat_api::post_with_token(&self.http, self.login.as_ref(), &url, &body, &[]).await
    }
}

/// Cuts a value to WeChat's limit for its field kind (counted in characters).
pub fn fit(value: &str, max_chars: usize) -> String {
    let trimmed = value.trim();
    if trimmed.chars().count() <= max_chars {
        return trimmed.to_string();
    }
    let mut out: String = trimmed.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_limits() {
        assert_eq!(fit("审核通过", 5), "审核通过");
        let long = "图像额外内容（手、水印等），请拍摄不含其他内容的照片";
        let cut = fit(long, 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with('…'));
    }
}
