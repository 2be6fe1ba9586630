//! WeChat subscription messages (订阅消息) to students who consented: the review result, 制作完成，
//! 可下载电子照片 when an order completes, and a reminder before an unpaid order closes. Listens on
//! the event bus, and looks in the database for events no sender heard; the unique event id on
//! `outbound_messages` makes one instance send each, once (a reminder is keyed by the order's
//! creation event).
//! A refusal (e.g. 43101) is recorded and never retried; a busy WeChat is tried 3 times in all.
use std::time::Duration;

use campus_photo_domain::records::MessageState;
use chrono::FixedOffset;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{
    AppState,
    entities::{account, order, order_event, outbound_message, project},
    error::{AppResult, is_unique_violation},
    events::BusMessage,
    ids::NodeType,
    integrations::wechat_messages::{SendError, SubscribeMessage, fit},
};

const ATTEMPTS: i32 = 3;
/// Field limits of subscription-message values (characters).
const THING: usize = 20;
const PHRASE: usize = 5;

/// Review results older than this are not messaged any more when found unsent.
const CATCH_UP_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);
const CATCH_UP_EVERY: Duration = Duration::from_secs(60);
const CATCH_UP_BATCH: u64 = 200;

/// The text of the completion message.
pub const COMPLETED_TEXT: &str = "制作完成，可下载电子照片";
/// The text of the reminder before an unpaid order closes.
pub const REMINDER_TEXT: &str = "订单即将关闭，请尽快支付";
/// How long before an unpaid order closes its student is reminded (at most a third of the
/// payment timeout).
const REMINDER_LEAD: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Reminds students whose unpaid order closes soon (once per order, only with consent). Run by
/// the sweeper; returns how many reminders went out.
pub async fn remind_unpaid(state: &AppState) -> AppResult<usize> {
    let timeout = chrono::TimeDelta::from_std(state.config.order_payment_timeout)
        .unwrap_or(chrono::TimeDelta::minutes(30));
    let lead = REMINDER_LEAD.min(timeout / 3);
    let now = state.clock.now();
    let handled = Query::select()
        .column(outbound_message::Column::OrderId)
        .from(outbound_message::Entity)
        .and_where(
            outbound_message::Column::TemplateId
                .eq(state.config.wechat_payment_reminder_template_id.clone()),
        )
        .to_owned();
    let due = order::Entity::find()
        .filter(order::Column::Status.eq(campus_photo_domain::order::OrderStatus::PendingPayment))
        .filter(order::Column::NotificationConsent.eq(true))
        .filter(order::Column::CreatedAt.lte(now - (timeout - lead)))
        .filter(order::Column::CreatedAt.gt(now - timeout))
        .filter(order::Column::Id.not_in_subquery(handled))
        .order_by_asc(order::Column::Id)
        .limit(CATCH_UP_BATCH)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for o in &due {
        // The order's first event (its creation) keys the reminder, so it goes out once.
        let Some(created) = order_event::Entity::find()
            .filter(order_event::Column::OrderId.eq(o.id))
            .order_by_asc(order_event::Column::Sequence)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        if deliver(state, &created, o, Kind::PaymentReminder)
            .await?
            .is_some()
        {
            sent += 1;
        }
    }
    Ok(sent)
}

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut live = state.bus.subscribe();
        // What was reviewed while no sender listened (start-up, a Redis outage, a lagging
        // receiver) is found in the database: first now, then on every resync and every minute.
        catch_up_logged(&state).await;
        let mut tick = tokio::time::interval(CATCH_UP_EVERY);
        tick.reset();
        loop {
            tokio::select! {
                message = live.recv() => match message {
                    Ok(BusMessage::OrderEvent(p)) => {
                        if let Err(e) = on_event(&state, p.event_id).await {
                            tracing::warn!(error = %e, "subscription message failed");
                        }
                    }
                    Ok(BusMessage::Resync) | Err(RecvError::Lagged(_)) => catch_up_logged(&state).await,
                    Ok(_) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = tick.tick() => catch_up_logged(&state).await,
            }
        }
    })
}

async fn catch_up_logged(state: &AppState) {
    match catch_up(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "sent review messages that had been missed"),
        Err(e) => tracing::warn!(error = %e, "catching up on review messages failed"),
    }
}

/// Handles review results of the last day that have no message yet and whose student
/// consented; returns how many it looked at.
pub async fn catch_up(state: &AppState) -> AppResult<usize> {
    let since = state.clock.now() - CATCH_UP_WINDOW;
    let handled = Query::select()
        .column(outbound_message::Column::EventId)
        .from(outbound_message::Entity)
        .to_owned();
    let consenting = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::NotificationConsent.eq(true))
        .to_owned();
    let missed: Vec<Uuid> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::Id)
        .filter(order_event::Column::Event.is_in(["APPROVE", "REJECT", "FINISH_PRODUCTION"]))
        .filter(order_event::Column::CreatedAt.gt(since))
        .filter(order_event::Column::Id.not_in_subquery(handled))
        .filter(order_event::Column::OrderId.in_subquery(consenting))
        .order_by_asc(order_event::Column::Id)
        .limit(CATCH_UP_BATCH)
        .into_tuple()
        .all(&state.db)
        .await?;
    for event_id in &missed {
        on_event(state, *event_id).await?;
    }
    Ok(missed.len())
}

/// Sends the message an event calls for, if any. Returns the recorded message.
pub async fn on_event(
    state: &AppState,
    event_id: Uuid,
) -> AppResult<Option<outbound_message::Model>> {
    let Some(event) = order_event::Entity::find_by_id(event_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let kind = match event.event.as_str() {
        "APPROVE" | "REJECT" => Kind::Review,
        "FINISH_PRODUCTION" => Kind::Completed,
        _ => return Ok(None),
    };
    let Some(o) = order::Entity::find_by_id(event.order_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    deliver(state, &event, &o, kind).await
}

/// Which message an event calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Review,
    Completed,
    PaymentReminder,
    FinishReminder,
}

/// The text of an operator's reminder to finish.
pub const FINISH_REMINDER_TEXT: &str = "请尽快完成图像采集";

/// The key an operator's reminder to one student on one day (Asia/Shanghai) is recorded under:
/// `outbound_messages.event_id` is unique, so a second reminder that day is never sent.
pub fn finish_reminder_key(account_id: Uuid, at: chrono::DateTime<chrono::Utc>) -> Uuid {
    use sha2::{Digest, Sha256};
    let day = FixedOffset::east_opt(8 * 3600)
        .map(|tz| at.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("finish-reminder:{account_id}:{day}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Whether the reminder under `key` was recorded already.
pub async fn reminded(state: &AppState, key: Uuid) -> AppResult<bool> {
    Ok(outbound_message::Entity::find()
        .filter(outbound_message::Column::EventId.eq(key))
        .one(&state.db)
        .await?
        .is_some())
}

/// Sends an operator's reminder to finish about order `o` (its student consented), recorded
/// under `key` ([`finish_reminder_key`]); `None` when it was sent already or cannot be.
pub async fn send_finish_reminder(
    state: &AppState,
    event: &order_event::Model,
    o: &order::Model,
    key: Uuid,
) -> AppResult<Option<outbound_message::Model>> {
    let keyed = order_event::Model {
        id: key,
        ..event.clone()
    };
    deliver(state, &keyed, o, Kind::FinishReminder).await
}

/// Shanghai time of `at`, as messages show it.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    FixedOffset::east_opt(8 * 3600)
        .map(|tz| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Sends the `kind` of message about order `o`, keyed by `event`, if the student consented and
/// nobody sent it before.
async fn deliver(
    state: &AppState,
    event: &order_event::Model,
    o: &order::Model,
    kind: Kind,
) -> AppResult<Option<outbound_message::Model>> {
    if !o.notification_consent {
        return Ok(None);
    }
    let Some(openid) = (match o.account_id {
        Some(a) => account::Entity::find_by_id(a)
            .one(&state.db)
            .await?
            .and_then(|a| a.wechat_openid),
        None => None,
    }) else {
        return Ok(None);
    };
    let project_row = project::Entity::find_by_id(o.project_id)
        .one(&state.db)
        .await?;
    let closes_at = project_row.as_ref().and_then(|p| p.closes_at);
    let project_name = project_row.map(|p| p.name).unwrap_or_default();
    let (template_id, data) = match kind {
        Kind::Review => {
            let verdict = if event.event == "REJECT" {
                "审核驳回"
            } else {
                "审核通过"
            };
            let reason = match verdict {
                "审核驳回" => o.rejection_message.clone().unwrap_or_default(),
                _ => "照片将进入制作".to_string(),
            };
            (
                state.config.wechat_review_template_id.clone(),
                serde_json::json!({
                    "thing1": { "value": fit(&project_name, THING) },
                    "phrase2": { "value": fit(verdict, PHRASE) },
                    "thing3": { "value": fit(&reason, THING) },
                    "time4": { "value": local_time(event.created_at) },
                }),
            )
        }
        Kind::Completed => (
            state.config.wechat_completed_template_id.clone(),
            serde_json::json!({
                "thing1": { "value": fit(&project_name, THING) },
                "phrase2": { "value": fit("制作完成", PHRASE) },
                "thing3": { "value": fit(COMPLETED_TEXT, THING) },
                "time4": { "value": local_time(event.created_at) },
            }),
        ),
        Kind::FinishReminder => (
            state.config.wechat_finish_reminder_template_id.clone(),
            serde_json::json!({
                "thing1": { "value": fit(&project_name, THING) },
                "phrase2": { "value": fit("待完成", PHRASE) },
                "thing3": { "value": fit(FINISH_REMINDER_TEXT, THING) },
                "time4": { "value": local_time(closes_at.unwrap_or(event.created_at)) },
            }),
        ),
        Kind::PaymentReminder => {
            let closes = o.created_at
                + chrono::TimeDelta::from_std(state.config.order_payment_timeout)
                    .unwrap_or(chrono::TimeDelta::minutes(30));
            (
                state.config.wechat_payment_reminder_template_id.clone(),
                serde_json::json!({
                    "thing1": { "value": fit(&project_name, THING) },
                    "amount2": { "value": campus_photo_domain::money::format_fen(o.amount_fen) },
                    "thing3": { "value": fit(REMINDER_TEXT, THING) },
                    "time4": { "value": local_time(closes) },
                }),
            )
        }
    };
    let message = SubscribeMessage {
        touser: openid,
        template_id,
        page: format!(
            "pages/orders/detail?id={}",
            state.ids.encode(NodeType::Order, o.id)
        ),
        data: data.clone(),
    };
    let row = outbound_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event.id),
        order_id: Set(o.id),
        account_id: Set(o.account_id.unwrap_or_default()),
        provider: Set(state.wechat_messages.provider().into()),
        template_id: Set(message.template_id.clone()),
        page: Set(message.page.clone()),
        data: Set(data),
        state: Set(MessageState::Pending),
        attempts: Set(0),
        error_code: Set(None),
        error: Set(None),
        created_at: Set(state.clock.now()),
        sent_at: Set(None),
    }
    .insert(&state.db)
    .await;
    let row = match row {
        Ok(r) => r,
        // Another instance (or an earlier delivery of the same event) has it.
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        match state.wechat_messages.send(&message).await {
            Ok(()) => break Ok(()),
            Err(SendError::Retryable(why)) if attempts < ATTEMPTS => {
                tracing::info!(%why, attempts, "WeChat busy; trying the message again");
                tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempts as u32 - 1)))
                    .await;
            }
            Err(e) => break Err(e),
        }
    };
    let (state_text, code, error) = match outcome {
        Ok(()) => (MessageState::Sent, None, None),
        Err(SendError::Refused { code, message }) => {
            (MessageState::Failed, Some(code), Some(message))
        }
        Err(SendError::Retryable(why)) => (MessageState::Failed, None, Some(why)),
    };
    outbound_message::Entity::update_many()
        .col_expr(outbound_message::Column::State, Expr::value(state_text))
        .col_expr(outbound_message::Column::Attempts, Expr::value(attempts))
        .col_expr(outbound_message::Column::ErrorCode, Expr::value(code))
        .col_expr(outbound_message::Column::Error, Expr::value(error))
        .col_expr(
            outbound_message::Column::SentAt,
            Expr::value((state_text == MessageState::Sent).then(|| state.clock.now())),
        )
        .filter(outbound_message::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    Ok(outbound_message::Entity::find_by_id(row.id)
        .one(&state.db)
        .await?)
}
