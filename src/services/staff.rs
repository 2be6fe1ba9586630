//! Staff accounts over their whole life: disabling and enabling them, resetting a password (the
//! account must choose a new one at its next sign-in), changing role and school. Every change ends
//! the account's sessions and sockets where it must and writes an audit record.
use campus_photo_domain::codes::Role;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use super::{
    accounts, audit, catalogue,
    scope::{self, Duty, Scope},
    sessions::{self, Viewer},
};
use crate::{
    AppState,
    entities::account,
    error::{AppError, AppResult, UserError},
};

fn not_found() -> AppError {
    AppError::NotFound("找不到该账号")
}

/// A staff account the viewer may administer: admins any staff account, school admins the
/// reviewers, producers and school admins of their own school. Anything else — students, other
/// schools' staff, unknown ids — is NOT_FOUND.
pub async fn administered(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<account::Model> {
    scope::require(viewer, Duty::Administer)?;
    let found = account::find(&state.db, id).await?;
    if found.role == Role::Student || found.deleted_at.is_some() {
        return Err(not_found());
    }
    let visible = match Scope::of(viewer) {
        Scope::AllSchools => true,
        Scope::School(own) => found.school_id == Some(own) && found.role != Role::Admin,
        Scope::OwnRecordsOnly => false,
    };
    if visible { Ok(found) } else { Err(not_found()) }
}

/// What the audit trail keeps of a staff account (never its password).
fn snapshot(a: &account::Model) -> serde_json::Value {
    serde_json::json!({
        "username": a.username,
        "role": a.role.as_str(),
        "schoolId": a.school_id,
        "disabled": a.disabled_at.is_some(),
        "mustChangePassword": a.must_change_password,
    })
}

fn not_on_self(viewer: &Viewer, target: &account::Model) -> AppResult<()> {
    if viewer.account_id == target.id {
        return Err(AppError::user(
            "OWN_ACCOUNT",
            "accountId",
            "不能对自己的账号执行此操作",
        ));
    }
    Ok(())
}

fn disabled() -> AppError {
    AppError::user("ACCOUNT_DISABLED", "accountId", "该账号已停用，请先启用")
}

/// Saves `next` with its audit record; with `end_sessions`, every session of the account ends in
/// the same transaction and its sockets close on every instance once it committed.
async fn save(
    state: &AppState,
    viewer: &Viewer,
    action: &'static str,
    before: account::Model,
    mut next: account::ActiveModel,
    end_sessions: bool,
) -> AppResult<account::Model> {
    let now = state.clock.now();
    let id = before.id;
    let before_json = snapshot(&before);
    next.updated_at = Set(now);
    let saved = state
        .write(async |txn| {
            let saved = next.update(txn).await?;
            if end_sessions {
                sessions::revoke_all(txn, id, now).await?;
            }
            audit::record(
                txn,
                viewer,
                audit::Change {
                    action,
                    target: audit::Target::Account,
                    target_id: id,
                    school_id: saved.school_id,
                    before: Some(before_json),
                    after: Some(snapshot(&saved)),
                },
                now,
            )
            .await?;
            Ok(saved)
        })
        .await?;
    if end_sessions {
        crate::events::sockets::announce_ended(state, id, None).await;
    }
    Ok(saved)
}

/// `createStaffAccount` by an admin: the account, and its audit record (STAFF_CREATED).
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: accounts::NewStaff<'_>,
) -> AppResult<account::Model> {
    let created = accounts::create_staff(state, input).await?;
    let change = audit::Change {
        action: "STAFF_CREATED",
        target: audit::Target::Account,
        target_id: created.id,
        school_id: created.school_id,
        before: None,
        after: Some(snapshot(&created)),
    };
    audit::record(&state.db, viewer, change, state.clock.now()).await?;
    Ok(created)
}

/// `disableStaffAccount`: the account can no longer sign in, and its sessions and sockets end
/// at once.
pub async fn disable(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<account::Model> {
    let found = administered(state, viewer, id).await?;
    not_on_self(viewer, &found)?;
    if found.disabled_at.is_some() {
        return Err(disabled());
    }
    let mut next: account::ActiveModel = found.clone().into();
    next.disabled_at = Set(Some(state.clock.now()));
    save(state, viewer, "STAFF_DISABLED", found, next, true).await
}

/// `enableStaffAccount`: the account may sign in again.
pub async fn enable(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<account::Model> {
    let found = administered(state, viewer, id).await?;
    if found.disabled_at.is_none() {
        return Err(AppError::user(
            "ACCOUNT_NOT_DISABLED",
            "accountId",
            "该账号未停用",
        ));
    }
    let mut next: account::ActiveModel = found.clone().into();
    next.disabled_at = Set(None);
    save(state, viewer, "STAFF_ENABLED", found, next, false).await
}

pub fn check_new_password(password: &str, field: &str) -> AppResult<()> {
    if password.chars().count() < 10 {
        return Err(AppError::user("WEAK_PASSWORD", field, "密码至少 10 位"));
    }
    Ok(())
}

/// `resetStaffPassword`: sets the temporary password the operator gives the colleague, ends the
/// account's sessions, and makes it choose a new password at its next sign-in.
pub async fn reset_password(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    temporary_password: &str,
) -> AppResult<account::Model> {
    let found = administered(state, viewer, id).await?;
    not_on_self(viewer, &found)?;
    if found.disabled_at.is_some() {
        return Err(disabled());
    }
    check_new_password(temporary_password, "temporaryPassword")?;
    let hash = accounts::hash_password(temporary_password.to_string()).await?;
    let mut next: account::ActiveModel = found.clone().into();
    next.password_hash = Set(Some(hash));
    next.must_change_password = Set(true);
    save(state, viewer, "STAFF_PASSWORD_RESET", found, next, true).await
}

/// The new role and school of `updateStaffAccount`; `None` leaves each as it is, `Some(None)`
/// for the school unbinds it.
pub struct StaffChanges<'a> {
    pub role: Option<Role>,
    pub school_code: Option<Option<&'a str>>,
}

/// `updateStaffAccount`: role and school. School admins may only move their own school's staff
/// between reviewer, producer and school admin; the school and the admin role are for admins.
/// The account's sessions end, so its new scope applies everywhere at once.
pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    changes: StaffChanges<'_>,
) -> AppResult<account::Model> {
    let found = administered(state, viewer, id).await?;
    not_on_self(viewer, &found)?;
    if found.disabled_at.is_some() {
        return Err(disabled());
    }
    let is_admin = viewer.role == Role::Admin;
    if !is_admin && (changes.school_code.is_some() || changes.role == Some(Role::Admin)) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let role = changes.role.unwrap_or(found.role);
    if role == Role::Student {
        errors.push(UserError::new("INVALID_ROLE", "学生账号只能通过微信登录创建").on("role"));
    }
    let school_id = match changes.school_code {
        None => found.school_id,
        Some(None) => None,
        Some(Some(code)) => match catalogue::school_by_code(state, code).await? {
            Some(school) => Some(school.id),
            None => {
                errors.push(UserError::new("SCHOOL_NOT_FOUND", "学校不存在").on("schoolCode"));
                None
            }
        },
    };
    if role == Role::SchoolAdmin && school_id.is_none() && errors.is_empty() {
        errors.push(UserError::new("SCHOOL_REQUIRED", "学校管理员必须指定学校").on("schoolCode"));
    }
    if role == Role::Admin && school_id.is_some() {
        errors.push(
            UserError::new("SCHOOL_NOT_ALLOWED", "系统管理员不属于某个学校").on("schoolCode"),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }
    let mut next: account::ActiveModel = found.clone().into();
    next.role = Set(role);
    next.school_id = Set(school_id);
    save(state, viewer, "STAFF_UPDATED", found, next, true).await
}

/// `changePassword`: a staff member sets a new password (after a reset, before anything else).
/// The current password must be right; the new one must differ.
pub async fn change_own_password(
    state: &AppState,
    viewer: &Viewer,
    current: &str,
    new: &str,
) -> AppResult<account::Model> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let found = account::find(&state.db, viewer.account_id).await?;
    let hash = found.password_hash.clone().unwrap_or_default();
    if !accounts::verify_password(current.to_string(), hash).await {
        return Err(AppError::user(
            "INVALID_CREDENTIALS",
            "currentPassword",
            "当前密码错误",
        ));
    }
    check_new_password(new, "newPassword")?;
    if new == current {
        return Err(AppError::user(
            "SAME_PASSWORD",
            "newPassword",
            "新密码不能与当前密码相同",
        ));
    }
    let hash = accounts::hash_password(new.to_string()).await?;
    let mut next: account::ActiveModel = found.clone().into();
    next.password_hash = Set(Some(hash));
    next.must_change_password = Set(false);
    save(state, viewer, "STAFF_PASSWORD_CHANGED", found, next, false).await
}
