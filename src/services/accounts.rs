//! Accounts: student sign-in with WeChat, staff sign-in with argon2id passwords, staff creation and
//! the bootstrap admin.
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use campus_photo_domain::{codes::Role, phone};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{account, school},
    error::{AppError, AppResult, UserError, is_unique_violation},
    integrations::wechat_login::WeChatLoginError,
};

pub struct SignedIn {
    pub token: String,
    pub account: account::Model,
}

pub struct StudentSignIn<'a> {
    /// Where the request came from (recorded on the session).
    pub ip: Option<std::net::IpAddr>,
    pub code: &'a str,
    pub phone_code: &'a str,
    pub agreement_version: &'a str,
}

fn wechat_error(e: WeChatLoginError) -> AppError {
    match e {
        WeChatLoginError::InvalidCode(_) => AppError::user(
            "WECHAT_CODE_INVALID",
            "code",
            "微信登录凭证无效或已过期，请重新登录",
        ),
        WeChatLoginError::InvalidPhoneCode(_) => AppError::user(
            "INVALID_PHONE",
            "phoneCode",
            "手机号授权无效，请重新授权一个中国大陆手机号",
        ),
        WeChatLoginError::Throttled => AppError::Throttled {
            retry_after_secs: 60,
        },
        other => AppError::Upstream(other.to_string()),
    }
}

/// 微信一键登录: finds or creates the student by openid, records the verified phone and the
/// accepted agreement version, and opens a session.
pub async fn sign_in_student(state: &AppState, input: StudentSignIn<'_>) -> AppResult<SignedIn> {
    let mut errors = Vec::new();
    if input.code.trim().is_empty() {
        errors
            .push(UserError::new("WECHAT_CODE_INVALID", "微信登录凭证为空，请重新登录").on("code"));
    }
    if input.phone_code.trim().is_empty() {
        errors.push(UserError::new("INVALID_PHONE", "请授权手机号后登录").on("phoneCode"));
    }
    let current = &state.config.service_info.agreement_version;
    if input.agreement_version.trim() != current {
        errors.push(
            UserError::new(
                "AGREEMENT_VERSION_MISMATCH",
                format!("服务协议已更新（版本 {current}），请阅读并同意最新协议后登录"),
            )
            .on("agreementVersion"),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }

    let identity = state
        .wechat_login
        .code_to_session(input.code)
        .await
        .map_err(wechat_error)?;
    let phone_number = state
        .wechat_login
        .phone_number(input.phone_code)
        .await
        .map_err(wechat_error)?;
    if !phone::is_valid_mobile(&phone_number) {
        return Err(AppError::user(
            "INVALID_PHONE",
            "phoneCode",
            "请使用中国大陆手机号登录",
        ));
    }

    let now = state.clock.now();
    let existing = account::Entity::find()
        .filter(account::Column::WechatOpenid.eq(identity.openid.as_str()))
        .one(&state.db)
        .await?;
    let phone_encrypted = state
        .crypto
        .encrypt(&phone_number)
        .map_err(AppError::internal)?;
    let phone_masked = phone::mask(&phone_number);
    let phone_index = super::search::phone_index(state, &phone_number);
    let account = match existing {
        Some(found) => {
            let mut active: account::ActiveModel = found.into();
            active.phone_encrypted = Set(Some(phone_encrypted));
            active.phone_masked = Set(Some(phone_masked));
            active.phone_index = Set(Some(phone_index));
            active.agreement_version = Set(Some(current.clone()));
            active.agreement_accepted_at = Set(Some(now));
            active.updated_at = Set(now);
            active.update(&state.db).await?
        }
        None => {
            let created = account::ActiveModel {
                id: Set(Uuid::now_v7()),
                role: Set(Role::Student),
                wechat_openid: Set(Some(identity.openid.clone())),
                phone_encrypted: Set(Some(phone_encrypted)),
                phone_masked: Set(Some(phone_masked)),
                agreement_version: Set(Some(current.clone())),
                agreement_accepted_at: Set(Some(now)),
                privacy_version: Set(None),
                privacy_accepted_at: Set(None),
                username: Set(None),
                password_hash: Set(None),
                school_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                deleted_at: Set(None),
                phone_index: Set(Some(phone_index)),
                disabled_at: Set(None),
                must_change_password: Set(false),
            }
            .insert(&state.db)
            .await;
            match created {
                Ok(a) => a,
                // Two first sign-ins raced: the other one created the account.
                Err(e) if is_unique_violation(&e) => account::Entity::find()
                    .filter(account::Column::WechatOpenid.eq(identity.openid.as_str()))
                    .one(&state.db)
                    .await?
                    .ok_or_else(|| AppError::internal("account vanished after unique violation"))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (token, _) = super::sessions::open(state, &account, input.ip).await?;
    Ok(SignedIn { token, account })
}

/// A real hash to verify against when the username is unknown, so both paths cost the same.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(b"campus-photo-dummy-password", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// Staff sign-in. Wrong username and wrong password get the same answer. Guessing is bounded
/// per address (unknown usernames included) and per account (`staff_sign_in_guard`); an address
/// the account signed in from recently is not held to the per-address limit, so a colleague's
/// or a stranger's failures behind the same NAT do not lock the owner out.
pub async fn sign_in_staff(
    state: &AppState,
    username: &str,
    password: &str,
    ip: crate::services::client_ip::ClientIp,
) -> AppResult<SignedIn> {
    use crate::services::{limits::Action, staff_sign_in_guard as guard};
    let found = account::Entity::find()
        .filter(account::Column::Username.eq(username.trim()))
        .one(&state.db)
        .await?;
    let attempt = match &found {
        Some(account) => Some(guard::admit(state, account.id, ip.0).await?),
        None => None,
    };
    if !attempt.as_ref().is_some_and(|a| a.familiar) {
        state.limiter.check(Action::SignIn, ip.subject()).await?;
    }
    let stored = found.as_ref().and_then(|a| a.password_hash.clone());
    let hash = match stored {
        Some(h) => h,
        None => tokio::task::spawn_blocking(dummy_hash)
            .await
            .map_err(AppError::internal)?,
    };
    let ok = verify_password(password.to_string(), hash).await;
    match (found, attempt) {
        (Some(account), Some(attempt)) if ok => {
            guard::succeeded(state, &attempt).await?;
            // Said only to whoever knows the password, so it tells a guesser nothing.
            if account.disabled_at.is_some() {
                return Err(AppError::user(
                    "ACCOUNT_DISABLED",
                    "username",
                    "该账号已被停用，请联系管理员",
                ));
            }
            let (token, _) = super::sessions::open(state, &account, ip.0).await?;
            Ok(SignedIn { token, account })
        }
        (_, attempt) => {
            if let Some(attempt) = attempt {
                guard::failed(state, &attempt).await?;
            }
            Err(AppError::User(vec![
                UserError::new("INVALID_CREDENTIALS", "用户名或密码错误").on("password"),
            ]))
        }
    }
}

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub school_code: Option<&'a str>,
}

/// Creates a staff account. School admins need a school; reviewers and producers may have one
/// (then they only see that school).
pub async fn create_staff(state: &AppState, input: NewStaff<'_>) -> AppResult<account::Model> {
    let mut errors = Vec::new();
    let username = input.username.trim();
    if username.len() < 3
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        errors.push(
            UserError::new("INVALID_USERNAME", "用户名需为 3-64 位字母、数字或 . _ -")
                .on("username"),
        );
    }
    if input.password.chars().count() < 10 {
        errors.push(UserError::new("WEAK_PASSWORD", "密码至少 10 位").on("password"));
    }
    if input.role == Role::Student {
        errors.push(UserError::new("INVALID_ROLE", "学生账号只能通过微信登录创建").on("role"));
    }
    let school = match input.school_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            let s = school::Entity::find()
                .filter(school::Column::Code.eq(code))
                .one(&state.db)
                .await?;
            if s.is_none() {
                errors.push(UserError::new("SCHOOL_NOT_FOUND", "学校不存在").on("schoolCode"));
            }
            s
        }
        None => None,
    };
    if input.role == Role::SchoolAdmin && input.school_code.is_none() {
        errors.push(UserError::new("SCHOOL_REQUIRED", "学校管理员必须指定学校").on("schoolCode"));
    }
    if input.role == Role::Admin && school.is_some() {
        errors.push(
            UserError::new("SCHOOL_NOT_ALLOWED", "系统管理员不属于某个学校").on("schoolCode"),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }
    insert_staff(
        state,
        username,
        input.password,
        input.role,
        school.map(|s| s.id),
    )
    .await
}

async fn insert_staff(
    state: &AppState,
    username: &str,
    password: &str,
    role: Role,
    school_id: Option<Uuid>,
) -> AppResult<account::Model> {
    let hash = hash_password(password.to_string()).await?;
    let now = state.clock.now();
    account::ActiveModel {
        id: Set(Uuid::now_v7()),
        role: Set(role),
        wechat_openid: Set(None),
        phone_encrypted: Set(None),
        phone_masked: Set(None),
        agreement_version: Set(None),
        agreement_accepted_at: Set(None),
        privacy_version: Set(None),
        privacy_accepted_at: Set(None),
        username: Set(Some(username.to_string())),
        password_hash: Set(Some(hash)),
        school_id: Set(school_id),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        phone_index: Set(None),
        disabled_at: Set(None),
        must_change_password: Set(false),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::user("USERNAME_TAKEN", "username", "用户名已被使用")
        } else {
            e.into()
        }
    })
}

/// Gives a staff account a new password and ends every session it has open (its sockets close
/// on every instance that hears the bus): whoever held the old password is signed out. Returns
/// how many sessions ended.
pub async fn reset_staff_password(
    state: &AppState,
    staff: account::Model,
    password: String,
) -> AppResult<u64> {
    let account_id = staff.id;
    let hash = hash_password(password).await?;
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let mut active: account::ActiveModel = staff.into();
    active.password_hash = Set(Some(hash));
    active.update(&txn).await?;
    let ended = super::sessions::revoke_all(&txn, account_id, now).await?;
    txn.commit().await?;
    crate::events::sockets::announce_ended(state, account_id, None).await;
    Ok(ended)
}

/// Creates the configured first admin when no account has that username yet.
pub async fn ensure_bootstrap_admin(state: &AppState) -> AppResult<bool> {
    let Some((username, password)) = state.config.bootstrap_admin.clone() else {
        return Ok(false);
    };
    let exists = account::Entity::find()
        .filter(account::Column::Username.eq(username.as_str()))
        .one(&state.db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    match insert_staff(state, &username, &password, Role::Admin, None).await {
        Ok(_) => Ok(true),
        // Another instance created it at the same moment.
        Err(AppError::User(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The viewer's own phone number, decrypted; staff in scope see the mask.
pub fn phone_for(
    state: &AppState,
    account: &account::Model,
    reader_is_owner: bool,
) -> Option<String> {
    if reader_is_owner {
        account
            .phone_encrypted
            .as_deref()
            .and_then(|c| state.crypto.decrypt(c).ok())
            .or_else(|| account.phone_masked.clone())
    } else {
        account.phone_masked.clone()
    }
}

/// 个人信息保护: records that the student accepted the current privacy notice, apart from the
/// agreement accepted at sign-in. Accepting the same version again keeps the first time.
pub async fn accept_privacy_notice(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    version: &str,
) -> AppResult<account::Model> {
    if viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let current = &state.config.service_info.privacy_version;
    if version.trim() != current {
        return Err(AppError::user(
            "PRIVACY_VERSION_MISMATCH",
            "version",
            format!("个人信息保护政策已更新（版本 {current}），请阅读并同意最新版本"),
        ));
    }
    let found = account::find(&state.db, viewer.account_id).await?;
    if found.privacy_version.as_deref() == Some(current.as_str()) {
        return Ok(found);
    }
    let now = state.clock.now();
    let mut active: account::ActiveModel = found.into();
    active.privacy_version = Set(Some(current.clone()));
    active.privacy_accepted_at = Set(Some(now));
    active.updated_at = Set(now);
    Ok(active.update(&state.db).await?)
}
