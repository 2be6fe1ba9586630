//! Bearer-token sessions: random tokens, only their SHA-256 stored, expiring, revocable.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use campus_photo_domain::codes::Role;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
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
}

impl Viewer {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// The outcome of reading the Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    /// A token was presented but is unknown, expired or revoked.
    Rejected,
    SignedIn(Viewer),
}

impl Auth {
    pub fn viewer(&self) -> AppResult<&Viewer> {
        match self {
            Auth::SignedIn(v) => Ok(v),
            Auth::Anonymous => Err(AppError::Unauthenticated("请先登录")),
            Auth::Rejected => Err(AppError::Unauthenticated("登录已过期，请重新登录")),
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

/// Resolves a bearer token to the viewer. Unknown, expired and revoked tokens are all `Rejected`.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> AppResult<Auth> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Auth::Anonymous);
    };
    let now = state.clock.now();
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .find_also_related(account::Entity)
        .one(&state.db)
        .await?;
    let Some((session, Some(account))) = found else {
        return Ok(Auth::Rejected);
    };
    if session.revoked_at.is_some() || session.expires_at <= now || account.deleted_at.is_some() {
        return Ok(Auth::Rejected);
    }
    let role = account.role;
    Ok(Auth::SignedIn(Viewer {
        account_id: account.id,
        session_id: session.id,
        role,
        school_id: account.school_id,
        expires_at: session.expires_at,
    }))
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
