//! Calling a WeChat server API with the mini-program's access token: the one request shape that
//! subscription messages and the shipping-info upload share.
use serde::Deserialize;

use super::{wechat_login::WeChatLogin, wechat_messages::SendError};

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// The access token was rejected: refresh once and retry.
const TOKEN_ERRORS: [i64; 3] = [40001, 42001, 40014];
/// System busy: another try later may work.
const BUSY: [i64; 2] = [-1, 45009];

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<Reply, SendError> {
    http.post(url)
        .query(&[("access_token", token)])
        .json(body)
        .send()
        .await
        .map_err(|e| SendError::Retryable(e.without_url().to_string()))?
        .json()
        .await
        .map_err(|e| SendError::Retryable(e.without_url().to_string()))
}

/// POSTs `body` to `url` with the access token, refreshing the token once when WeChat calls it
/// stale. `errcode` 0 and those in `also_ok` succeed; busy codes are worth a retry; any other
/// code is a refusal.
pub async fn post_with_token(
    http: &reqwest::Client,
    login: &dyn WeChatLogin,
    url: &str,
    body: &serde_json::Value,
    also_ok: &[i64],
) -> Result<(), SendError> {
    let token = |force| async move {
        login
            .access_token(force)
            .await
            .map_err(|e| SendError::Retryable(e.to_string()))
    };
    let mut reply = post(http, url, &token(false).await?, body).await?;
    if TOKEN_ERRORS.contains(&reply.errcode) {
        reply = post(http, url, &token(true).await?, body).await?;
    }
    match reply.errcode {
        0 => Ok(()),
        code if also_ok.contains(&code) => Ok(()),
        code if BUSY.contains(&code) => {
            Err(SendError::Retryable(format!("{code} {}", reply.errmsg)))
        }
        code => Err(SendError::Refused {
            code,
            message: reply.errmsg,
        }),
    }
}
