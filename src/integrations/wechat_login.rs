//! Mini-program sign-in: `wx.login` code → openid (code2Session), `getPhoneNumber` code → the
//! verified phone number (getuserphonenumber, which needs an access token: the stable-token API,
//! cached until shortly before it expires).
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::Mutex;

use crate::clock::SharedClock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeChatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WeChatLoginError {
    /// The code is wrong, used or expired: the mini-program must call wx.login again.
    #[error("login code rejected ({0})")]
    InvalidCode(i64),
    /// The phone code is wrong, used or expired.
    #[error("phone code rejected ({0})")]
    InvalidPhoneCode(i64),
    #[error("WeChat rate limit")]
    Throttled,
    #[error("WeChat API error {code}: {message}")]
    Api { code: i64, message: String },
    #[error("WeChat unreachable: {0}")]
    Transport(String),
}

#[async_trait]
pub trait WeChatLogin: Send + Sync + 'static {
    async fn code_to_session(&self, code: &str) -> Result<WeChatIdentity, WeChatLoginError>;
    /// The verified 11-digit mainland number behind a getPhoneNumber code.
    async fn phone_number(&self, phone_code: &str) -> Result<String, WeChatLoginError>;
    /// The mini-program's access token (for the server-side APIs such as subscription messages).
    async fn access_token(&self, force_refresh: bool) -> Result<String, WeChatLoginError>;
}

/// Development and tests: same code, same openid; the phone code is the phone number itself.
#[derive(Debug, Default)]
pub struct SandboxWeChatLogin;

#[async_trait]
impl WeChatLogin for SandboxWeChatLogin {
    async fn code_to_session(&self, code: &str) -> Result<WeChatIdentity, WeChatLoginError> {
        if code.trim().is_empty() {
            return Err(WeChatLoginError::InvalidCode(40029));
        }
        let digest = Sha256::digest(format!("sandbox-openid:{}", code.trim()));
        Ok(WeChatIdentity {
            openid: format!("sbx_{}", &hex::encode(digest)[..24]),
            unionid: None,
        })
    }

    async fn phone_number(&self, phone_code: &str) -> Result<String, WeChatLoginError> {
        let phone = phone_code.trim();
        if campus_photo_domain::phone::is_valid_mobile(phone) {
            Ok(phone.to_string())
        } else {
            Err(WeChatLoginError::InvalidPhoneCode(40029))
        }
    }

    async fn access_token(&self, _force_refresh: bool) -> Result<String, WeChatLoginError> {
        Ok("sandbox-access-token".into())
    }
}

/// An access token and when to stop using it.
type CachedToken = (String, DateTime<Utc>);

/// The real client against api.weixin.qq.com (or `WECHAT_API_BASE`).
pub struct RealWeChatLogin {
    http: reqwest::Client,
    base: String,
    app_id: String,
    secret: String,
    clock: SharedClock,
    token: Arc<Mutex<Option<CachedToken>>>,
}

#[derive(Deserialize)]
struct Code2SessionReply {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct StableTokenReply {
    access_token: Option<String>,
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct PhoneReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInfo {
    pure_phone_number: String,
    country_code: String,
}

/// Codes WeChat documents for a bad, used or expired code.
const INVALID_CODE_ERRORS: [i64; 3] = [40029, 40163, 40226];
const RATE_LIMITED: i64 = 45011;
/// The access token was rejected (expired early or revoked): refresh once and retry.
const TOKEN_ERRORS: [i64; 3] = [40001, 42001, 40014];

impl RealWeChatLogin {
    pub fn new(
        http: reqwest::Client,
        base: String,
        app_id: String,
        secret: String,
        clock: SharedClock,
    ) -> Self {
        Self {
            http,
            base,
            app_id,
            secret,
            clock,
            token: Arc::new(Mutex::new(None)),
        }
    }

    fn transport(e: reqwest::Error) -> WeChatLoginError {
        WeChatLoginError::Transport(e.without_url().to_string())
    }

    /// The cached access token, fetched from the stable-token API when missing or near expiry.
    /// The lock makes concurrent callers share one fetch.
    async fn cached_access_token(&self, force_refresh: bool) -> Result<String, WeChatLoginError> {
        let mut cached = self.token.lock().await;
        let now = self.clock.now();
        if !force_refresh
            && let Some((token, until)) = cached.as_ref()
            && *until > now
        {
            return Ok(token.clone());
        }
        let reply: StableTokenReply = self
            .http
            .post(format!("{}/cgi-bin/stable_token", self.base))
            .json(&serde_json::json!({
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self.secret,
                "force_refresh": force_refresh,
            }))
            .send()
            .await
            .map_err(Self::transport)?
            .json()
            .await
            .map_err(Self::transport)?;
        match (reply.access_token, reply.expires_in) {
            (Some(token), Some(expires_in)) if reply.errcode == 0 => {
                // Refresh five minutes early so a token never expires in flight.
                let until = now + Duration::seconds((expires_in - 300).max(60));
                *cached = Some((token.clone(), until));
                Ok(token)
            }
            _ if reply.errcode == RATE_LIMITED => Err(WeChatLoginError::Throttled),
            _ => Err(WeChatLoginError::Api {
                code: reply.errcode,
                message: reply.errmsg,
            }),
        }
    }

    async fn request_phone(
        &self,
        token: &str,
        phone_code: &str,
    ) -> Result<PhoneReply, WeChatLoginError> {
        self.http
            .post(format!("{}/wxa/business/getuserphonenumber", self.base))
            .query(&[("access_token", token)])
            .json(&serde_json::json!({ "code": phone_code }))
            .send()
            .await
            .map_err(Self::transport)?
            .json()
            .await
            .map_err(Self::transport)
    }
}

#[async_trait]
impl WeChatLogin for RealWeChatLogin {
    async fn code_to_session(&self, code: &str) -> Result<WeChatIdentity, WeChatLoginError> {
        if code.trim().is_empty() {
            return Err(WeChatLoginError::InvalidCode(40029));
        }
        let reply: Code2SessionReply = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", self.app_id.as_str()),
                ("secret", self.secret.as_str()),
                ("js_code", code.trim()),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(Self::transport)?
            .json()
            .await
            .map_err(Self::transport)?;
        match reply.openid {
            Some(openid) if reply.errcode == 0 => Ok(WeChatIdentity {
                openid,
                unionid: reply.unionid,
            }),
            _ if INVALID_CODE_ERRORS.contains(&reply.errcode) => {
                Err(WeChatLoginError::InvalidCode(reply.errcode))
            }
            _ if reply.errcode == RATE_LIMITED => Err(WeChatLoginError::Throttled),
            _ => Err(WeChatLoginError::Api {
                code: reply.errcode,
                message: reply.errmsg,
            }),
        }
    }

    async fn phone_number(&self, phone_code: &str) -> Result<String, WeChatLoginError> {
        if phone_code.trim().is_empty() {
            return Err(WeChatLoginError::InvalidPhoneCode(40029));
        }
        let token = self.cached_access_token(false).await?;
        let mut reply = self.request_phone(&token, phone_code.trim()).await?;
        if TOKEN_ERRORS.contains(&reply.errcode) {
            let token = self.cached_access_token(true).await?;
            reply = self.request_phone(&token, phone_code.trim()).await?;
        }
        match reply.phone_info {
            Some(info) if reply.errcode == 0 => {
                if info.country_code != "86" {
                    // The registry needs a mainland number; refuse others clearly.
                    return Err(WeChatLoginError::InvalidPhoneCode(0));
                }
                Ok(info.pure_phone_number)
            }
            _ if INVALID_CODE_ERRORS.contains(&reply.errcode) => {
                Err(WeChatLoginError::InvalidPhoneCode(reply.errcode))
            }
            _ if reply.errcode == RATE_LIMITED => Err(WeChatLoginError::Throttled),
            _ => Err(WeChatLoginError::Api {
                code: reply.errcode,
                message: reply.errmsg,
            }),
        }
    }

    async fn access_token(&self, force_refresh: bool) -> Result<String, WeChatLoginError> {
        self.cached_access_token(force_refresh).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sandbox_is_deterministic_per_code() {
        let s = SandboxWeChatLogin;
        let a = s.code_to_session("abc").await.expect("a");
        let b = s.code_to_session("abc").await.expect("b");
        let c = s.code_to_session("abd").await.expect("c");
        assert_eq!(a, b);
        assert_ne!(a.openid, c.openid);
        assert_eq!(
            s.code_to_session("  ").await,
            Err(WeChatLoginError::InvalidCode(40029))
        );
    }

    #[tokio::test]
    async fn sandbox_phone_code_is_the_number() {
        let s = SandboxWeChatLogin;
        assert_eq!(
            s.phone_number("13800138000").await.as_deref(),
            Ok("13800138000")
        );
        assert!(s.phone_number("12345").await.is_err());
        assert!(s.phone_number("23800138000").await.is_err());
    }
}
