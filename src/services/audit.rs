//! 操作记录: every change an operator makes to a project, a staff account or an enrollment is
//! written here, in the transaction that makes it — who, when, what, and the record before and
//! after. Admins read it (`auditRecords`).
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use super::{
    paging::{Page, PageArgs, page_by_id},
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::audit_record,
    error::{AppError, AppResult},
    ids::NodeType,
};

/// What an audit record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Project,
    Account,
    Enrollment,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Project => "PROJECT",
            Self::Account => "ACCOUNT",
            Self::Enrollment => "ENROLLMENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Project, Self::Account, Self::Enrollment]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// The node type a target's global id is made with.
    pub fn node_type(self) -> NodeType {
        match self {
            Self::Project => NodeType::Project,
            Self::Account => NodeType::Account,
            Self::Enrollment => NodeType::Enrollment,
        }
    }
}

/// One change to record.
pub struct Change {
    pub action: &'static str,
    pub target: Target,
    pub target_id: Uuid,
    pub school_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Writes the record, in the caller's transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Viewer,
    change: Change,
    now: DateTime<Utc>,
) -> AppResult<audit_record::Model> {
    Ok(audit_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_account_id: Set(actor.account_id),
        action: Set(change.action.to_string()),
        target_type: Set(change.target.as_str().to_string()),
        target_id: Set(change.target_id),
        school_id: Set(change.school_id),
        before: Set(change.before),
        after: Set(change.after),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Admins: the records (of one target when given), newest first.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    target_id: Option<Uuid>,
    args: &PageArgs,
) -> AppResult<Page<audit_record::Model>> {
    if viewer.role != campus_photo_domain::codes::Role::Admin {
        return Err(AppError::Forbidden);
    }
    let mut select = audit_record::Entity::find();
    if let Some(id) = target_id {
        select = select.filter(audit_record::Column::TargetId.eq(id));
    }
    page_by_id(
        &state.db,
        select,
        audit_record::Column::Id,
        true,
        args,
        &state.ids,
        NodeType::AuditRecord,
    )
    .await
}
