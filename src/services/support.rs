//! 在线客服: a student opens a ticket (optionally about one of their orders, optionally with a
//! picture), staff of the order's school — or admins, for tickets about no order — answer, the
//! student follows up; either side may close it. Each change is announced on the bus so the
//! student's `supportTicketUpdates` subscription shows the answer at once.
use bytes::Bytes;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::services::scope;

use crate::{
    AppState,
    entities::{support_message, support_ticket},
    error::{AppError, AppResult},
    events::{self, BusMessage},
    services::{cpu, orders, sessions::Viewer},
    storage::{content_key, sha256_hex},
};

const SUBJECT_MAX: usize = 60;
const TEXT_MAX: usize = 1000;
/// Attached pictures are screenshots or photos: a few MiB at most.
const PICTURE_MAX_BYTES: usize = 5 * 1024 * 1024;

pub struct NewTicket {
    pub order_id: Option<Uuid>,
    pub subject: String,
    pub text: String,
    pub picture: Option<Vec<u8>>,
}

fn checked_text(text: &str, max: usize, field: &str, what: &str) -> AppResult<String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > max {
        return Err(AppError::user(
            if field == "subject" {
                "INVALID_SUBJECT"
            } else {
                "INVALID_TEXT"
            },
            field,
            format!("请填写{what}（不超过 {max} 个字）"),
        ));
    }
    Ok(text.to_string())
}

/// Whether the viewer may see and answer a ticket. Unknown and not-yours look the same.
pub fn may_handle(viewer: &Viewer, ticket: &support_ticket::Model) -> bool {
    if !viewer.is_staff() {
        return ticket.account_id == Some(viewer.account_id);
    }
    scope::staff_see(viewer, ticket.school_id)
}

fn not_found() -> AppError {
    AppError::user("NOT_FOUND", "ticketId", "找不到该工单")
}

pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    input: NewTicket,
) -> AppResult<support_ticket::Model> {
    if viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let subject = checked_text(&input.subject, SUBJECT_MAX, "subject", "问题标题")?;
    let text = checked_text(&input.text, TEXT_MAX, "text", "问题描述")?;
    let school_id = match input.order_id {
        Some(id) => match orders::own(state, viewer, id).await {
            Ok(o) => Some(o.school_id),
            Err(AppError::NotFound(_) | AppError::Forbidden) => {
                return Err(AppError::user("NOT_FOUND", "orderId", "找不到该订单"));
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let photo_key = match input.picture {
        Some(bytes) => Some(store_picture(state, bytes).await?),
        None => None,
    };
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let ticket = support_ticket::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(Some(viewer.account_id)),
        order_id: Set(input.order_id),
        school_id: Set(school_id),
        subject: Set(subject),
        open: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    add_message(&txn, &ticket, viewer, text, photo_key, now).await?;
    txn.commit().await?;
    announce(state, &ticket).await;
    Ok(ticket)
}

/// A reply from staff in scope or from the student; `close` ends the ticket.
pub async fn answer(
    state: &AppState,
    viewer: &Viewer,
    ticket_id: Uuid,
    text: &str,
    close: bool,
) -> AppResult<support_ticket::Model> {
    let ticket = support_ticket::Entity::find_by_id(ticket_id)
        .one(&state.db)
        .await?
        .filter(|t| may_handle(viewer, t))
        .ok_or_else(not_found)?;
    if !ticket.open {
        return Err(AppError::user(
            "INVALID_STATE",
            "ticketId",
            "该工单已关闭，如有新问题请重新提交",
        ));
    }
    let text = checked_text(text, TEXT_MAX, "text", "回复内容")?;
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    add_message(&txn, &ticket, viewer, text, None, now).await?;
    let mut active: support_ticket::ActiveModel = ticket.into();
    active.updated_at = Set(now);
    if close {
        active.open = Set(false);
    }
    let ticket = active.update(&txn).await?;
    txn.commit().await?;
    announce(state, &ticket).await;
    Ok(ticket)
}

async fn add_message<C: sea_orm::ConnectionTrait>(
    db: &C,
    ticket: &support_ticket::Model,
    viewer: &Viewer,
    text: String,
    photo_key: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    support_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        ticket_id: Set(ticket.id),
        author_account_id: Set(Some(viewer.account_id)),
        author_role: Set(viewer.role),
        text: Set(text),
        photo_key: Set(photo_key),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Checks that the picture is an image within the limits (decoded off the async threads, as
/// photos are) and stores it.
async fn store_picture(state: &AppState, bytes: Vec<u8>) -> AppResult<String> {
    if bytes.len() > PICTURE_MAX_BYTES {
        return Err(AppError::user(
            "FMT_FILE",
            "picture",
            "图片太大，请上传 5 MB 以内的图片",
        ));
    }
    let limits = state.decode_limits();
    let bytes = Bytes::from(bytes);
    let input = bytes.clone();
    let content_type = cpu::run(state, move || {
        campus_photo_imaging::decode_upload(&input, &limits)
            .map(|d| d.content_type)
            .map_err(|e| AppError::user("FMT_FILE", "picture", e.user_message()))
    })
    .await?;
    let extension = crate::services::photos::extension_of(content_type);
    let key = content_key("support", &sha256_hex(&bytes), extension);
    state.storage.put(&key, bytes).await?;
    Ok(key)
}

async fn announce(state: &AppState, ticket: &support_ticket::Model) {
    events::notify(
        state,
        BusMessage::TicketChanged {
            ticket_id: ticket.id,
            account_id: ticket.account_id,
            school_id: ticket.school_id,
        },
    )
    .await;
}

/// The student's tickets, newest first.
pub async fn of_student(
    state: &AppState,
    viewer: &Viewer,
) -> AppResult<Vec<support_ticket::Model>> {
    Ok(support_ticket::Entity::find()
        .filter(support_ticket::Column::AccountId.eq(viewer.account_id))
        .order_by_desc(support_ticket::Column::Id)
        .all(&state.db)
        .await?)
}

/// Staff: the tickets in scope, open ones only unless `include_closed`, oldest first (the
/// longest-waiting question on top).
pub async fn for_staff(
    state: &AppState,
    viewer: &Viewer,
    include_closed: bool,
    args: &crate::services::paging::PageArgs,
) -> AppResult<crate::services::paging::Page<support_ticket::Model>> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let mut query = support_ticket::Entity::find();
    if !include_closed {
        query = query.filter(support_ticket::Column::Open.eq(true));
    }
    if let Some(school) = scope::Scope::of(viewer).only_school() {
        query = query.filter(support_ticket::Column::SchoolId.eq(school));
    }
    crate::services::paging::page_by_id(
        &state.db,
        query,
        support_ticket::Column::Id,
        false,
        args,
        &state.ids,
        crate::ids::NodeType::SupportTicket,
    )
    .await
}
