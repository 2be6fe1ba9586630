//! Bearer-token sessions: random tokens, only their SHA-256 stored, expiring, revocable.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use campus_photo_domain::codes::Role;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{account, session},
    error::{AppError, AppResult},
};

/// Who is making the request, once the token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub account_id: Uuid,
    pub session_id: Uuid,
    pub role: Role,
    pub school_id: Option<Uuid>,
    /// When the session expires (its open WebSockets close then).
    pub expires_at: DateTime<Utc>,
    /// An operator reset the password: until a new one is chosen (`changePassword`), the
    /// account may do nothing else.
    pub must_change_password: bool,
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// The outcome of reading the Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials at all.
    Anonymous,
    /// Credentials were presented but open no session.
    Rejected(Rejection),
    SignedIn(Viewer),
}

/// Why presented credentials open no session; each says so in its own words (HTTP) and its own
/// close reason (WebSocket), so a client can tell a header it got wrong from a session to renew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The Authorization header (or the `connection_init` authorization) is not `Bearer <token>`.
    Malformed,
    /// The token is unknown, revoked, or its account deleted.
    Invalid,
    /// The token's session has expired.
    Expired,
}

impl Rejection {
    pub fn message(self) -> &'static str {
        match self {
            Rejection::Malformed => {
                "Authorization 请求头格式不正确，应为 `Authorization: Bearer <token>`"
            }
            Rejection::Invalid => "登录凭证无效或已退出，请重新登录",
            Rejection::Expired => "登录已过期，请重新登录",
        }
    }
}

/// What an operation that needs a viewer answers when no credentials were sent.
pub const NOT_SIGNED_IN: &str = "请先登录：请求未带 `Authorization: Bearer <token>` 请求头";

impl Auth {
    pub fn viewer(&self) -> AppResult<&Viewer> {
        match self {
            Auth::SignedIn(v) => Ok(v),
            Auth::Anonymous => Err(AppError::Unauthenticated(NOT_SIGNED_IN)),
            Auth::Rejected(why) => Err(AppError::Unauthenticated(why.message())),
        }
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Opens a session for `account` and returns the bearer token (shown once, never stored).
pub async fn open(
    state: &AppState,
    account: &account::Model,
    from: Option<std::net::IpAddr>,
) -> AppResult<(String, DateTime<Utc>)> {
    let token = new_token();
    let now = state.clock.now();
    let expires_at = now + state.config.session_ttl;
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account.id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        opened_from: Set(from.map(super::staff_sign_in_guard::address_key)),
    }
    .insert(&state.db)
    .await?;
    Ok((token, expires_at))
}

/// Resolves a bearer token to the viewer. Unknown, revoked and expired tokens are `Rejected`
/// (expired ones saying so).
pub async fn authenticate(state: &AppState, token: Option<&str>) -> AppResult<Auth> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Auth::Anonymous);
    };
    let now = state.clock.now();
    let found = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .column(session::Column::ExpiresAt)
        .column(session::Column::RevokedAt)
        .column_as(account::Column::Id, "account_id")
        .column(account::Column::Role)
        .column(account::Column::SchoolId)
        .column(account::Column::DeletedAt)
        .column(account::Column::DisabledAt)
        .column(account::Column::MustChangePassword)
        .inner_join(account::Entity)
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .into_model::<SessionOfAccount>()
        .one(&state.db)
        .await?;
    let Some(found) = found else {
        return Ok(Auth::Rejected(Rejection::Invalid));
    };
    if found.revoked_at.is_some() || found.deleted_at.is_some() || found.disabled_at.is_some() {
        return Ok(Auth::Rejected(Rejection::Invalid));
    }
    if found.expires_at <= now {
        return Ok(Auth::Rejected(Rejection::Expired));
    }
    Ok(Auth::SignedIn(Viewer {
        account_id: found.account_id,
        session_id: found.id,
        role: found.role,
        school_id: found.school_id,
        expires_at: found.expires_at,
        must_change_password: found.must_change_password,
    }))
}

/// What authenticating a request reads of a session and its account: every request pays for
/// it, so only these columns (the whole two rows cost the order page about 7 % of its CPU).
#[derive(sea_orm::FromQueryResult)]
struct SessionOfAccount {
    id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    account_id: Uuid,
    role: Role,
    school_id: Option<Uuid>,
    deleted_at: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
    must_change_password: bool,
}

/// Revokes every session of an account (退出所有设备); returns how many were open.
pub async fn revoke_all<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    Ok(session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Revokes one session, and closes its open WebSockets on every instance.
pub async fn revoke(state: &AppState, viewer: &Viewer) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(state.clock.now()))
        .filter(session::Column::Id.eq(viewer.session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    crate::events::sockets::announce_ended(state, viewer.account_id, Some(viewer.session_id)).await;
    Ok(())
}
