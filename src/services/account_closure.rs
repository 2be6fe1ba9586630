//! 账号信息: signing out of every device, and deleting a student's account. Deleting erases the
//! personal data (phone, WeChat identity, the encrypted name and ID number, the photos, support
//! conversations) and keeps the orders for accounting with their link to the account removed.
use std::collections::HashSet;

use campus_photo_domain::{
    account_deletion::{self, OrderFacts},
    codes::Role,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{
        account, enrollment, order, payment, photo, print_order, registry_export_item,
        support_message, support_ticket,
    },
    error::{AppError, AppResult, UserError},
    services::sessions::{self, Viewer},
};

/// Revokes every session of the viewer, this one included; returns how many there were.
pub async fn sign_out_everywhere(state: &AppState, viewer: &Viewer) -> AppResult<u64> {
    let revoked = sessions::revoke_all(&state.db, viewer.account_id, state.clock.now()).await?;
    crate::events::sockets::announce_ended(state, viewer.account_id, None).await;
    Ok(revoked)
}

pub async fn delete_student_account(state: &AppState, viewer: &Viewer) -> AppResult<()> {
    if viewer.role != Role::Student {
        return Err(AppError::User(vec![UserError::new(
            "STAFF_ACCOUNT",
            "工作人员账号由管理员管理，不能自行注销",
        )]));
    }
    let orders = order::Entity::find()
        .filter(order::Column::AccountId.eq(viewer.account_id))
        .all(&state.db)
        .await?;
    let reported: HashSet<Uuid> = registry_export_item::Entity::find()
        .select_only()
        .column(registry_export_item::Column::OrderId)
        .filter(registry_export_item::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .into_tuple()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut facts = Vec::with_capacity(orders.len());
    for o in &orders {
        facts.push(OrderFacts {
            status: o.status,
            refund_pending: o.refund_pending,
            reported: reported.contains(&o.id),
        });
    }
    // Prints still being paid, made or delivered need the student (and their address).
    let prints_open = crate::services::prints::in_progress_count(state, viewer.account_id).await?;
    let blocker = account_deletion::blocker(facts)
        .or((prints_open > 0).then_some(account_deletion::Blocker::OrderInProgress));
    if let Some(blocker) = blocker {
        return Err(AppError::User(vec![UserError::new(
            blocker.code(),
            blocker.message(),
        )]));
    }

    let enrollment_ids: Vec<Uuid> = enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::Id)
        .filter(enrollment::Column::AccountId.eq(viewer.account_id))
        .into_tuple()
        .all(&state.db)
        .await?;
    let photos = photo::Entity::find()
        .filter(photo::Column::EnrollmentId.is_in(enrollment_ids.iter().copied()))
        .all(&state.db)
        .await?;
    let mut keys: HashSet<String> = HashSet::new();
    for p in &photos {
        keys.insert(p.object_key.clone());
        keys.extend(p.preview_key.clone());
    }
    keys.extend(orders.iter().filter_map(|o| o.deliverable_key.clone()));
    // Support tickets are conversations, not accounting records: they go entirely.
    let ticket_ids: Vec<Uuid> = support_ticket::Entity::find()
        .select_only()
        .column(support_ticket::Column::Id)
        .filter(support_ticket::Column::AccountId.eq(viewer.account_id))
        .into_tuple()
        .all(&state.db)
        .await?;
    let pictures: Vec<Option<String>> = support_message::Entity::find()
        .select_only()
        .column(support_message::Column::PhotoKey)
        .filter(support_message::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .into_tuple()
        .all(&state.db)
        .await?;
    keys.extend(pictures.into_iter().flatten());

    let print_ids: Vec<Uuid> = print_order::Entity::find()
        .select_only()
        .column(print_order::Column::Id)
        .filter(print_order::Column::AccountId.eq(viewer.account_id))
        .into_tuple()
        .all(&state.db)
        .await?;
    let payments = payment::Entity::find()
        .filter(
            Condition::any()
                .add(payment::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
                .add(payment::Column::PrintOrderId.is_in(print_ids.iter().copied())),
        )
        .all(&state.db)
        .await?;

    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    // Payments stay as accounting records, but the payer's WeChat openid names the student:
    // it goes from the column and from the stored notification.
    for p in payments {
        let scrubbed = p.notification.clone().map(without_payer);
        if p.payer_openid.is_none() && scrubbed == p.notification {
            continue;
        }
        payment::ActiveModel {
            id: Set(p.id),
            payer_openid: Set(None),
            notification: Set(scrubbed),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    // Orders stay (payments and refunds are accounting records), no longer linked to anyone.
    order::Entity::update_many()
        .col_expr(order::Column::AccountId, Expr::value(Option::<Uuid>::None))
        .col_expr(
            order::Column::DeliverableKey,
            Expr::value(Option::<String>::None),
        )
        .filter(order::Column::AccountId.eq(viewer.account_id))
        .exec(&txn)
        .await?;
    // Print orders stay for accounting too, without the link or the address.
    print_order::Entity::update_many()
        .col_expr(
            print_order::Column::AccountId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            print_order::Column::AddressSealed,
            Expr::value(Option::<String>::None),
        )
        .filter(print_order::Column::AccountId.eq(viewer.account_id))
        .exec(&txn)
        .await?;
    // The registry ids and masked values stay with the reported orders; what could name the
    // student (the encrypted name and ID number, the ID-number lookup index) goes.
    enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::AccountId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            enrollment::Column::NameEncrypted,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            enrollment::Column::IdNumberEncrypted,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            enrollment::Column::IdNumberIndex,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            enrollment::Column::NameIndex,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            enrollment::Column::AdmissionNumber,
            Expr::value(Option::<String>::None),
        )
        .filter(enrollment::Column::AccountId.eq(viewer.account_id))
        .exec(&txn)
        .await?;
    photo::Entity::update_many()
        .col_expr(
            photo::Column::PreviewKey,
            Expr::value(Option::<String>::None),
        )
        .filter(photo::Column::EnrollmentId.is_in(enrollment_ids.iter().copied()))
        .exec(&txn)
        .await?;
    account::Entity::update_many()
        .col_expr(
            account::Column::WechatOpenid,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            account::Column::PhoneEncrypted,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            account::Column::PhoneMasked,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            account::Column::PhoneIndex,
            Expr::value(Option::<String>::None),
        )
        .col_expr(account::Column::DeletedAt, Expr::value(Some(now)))
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(viewer.account_id))
        .exec(&txn)
        .await?;
    support_message::Entity::delete_many()
        .filter(support_message::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .exec(&txn)
        .await?;
    support_ticket::Entity::delete_many()
        .filter(support_ticket::Column::Id.is_in(ticket_ids.iter().copied()))
        .exec(&txn)
        .await?;
    sessions::revoke_all(&txn, viewer.account_id, now).await?;
    txn.commit().await?;
    crate::events::sockets::announce_ended(state, viewer.account_id, None).await;

    // The images go last: the rows no longer lead to them. Keys are content-addressed, so an
    // object another student's photo also uses is kept.
    for key in keys {
        if !used_elsewhere(state, &key, &enrollment_ids).await? {
            state.storage.delete(&key).await?;
        }
    }
    tracing::info!(account = %viewer.account_id, "student account deleted");
    Ok(())
}

/// A stored notification or transaction without its `payer` (the openid that names the student).
fn without_payer(mut notification: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = notification.as_object_mut() {
        fields.remove("payer");
    }
    notification
}

async fn used_elsewhere(state: &AppState, key: &str, mine: &[Uuid]) -> AppResult<bool> {
    let photo_uses = photo::Entity::find()
        .select_only()
        .column(photo::Column::Id)
        .filter(
            Condition::any()
                .add(photo::Column::ObjectKey.eq(key))
                .add(photo::Column::PreviewKey.eq(key)),
        )
        .filter(photo::Column::EnrollmentId.is_not_in(mine.iter().copied()))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?;
    if photo_uses.is_some() {
        return Ok(true);
    }
    let deliverable = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .filter(order::Column::DeliverableKey.eq(key))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?;
    if deliverable.is_some() {
        return Ok(true);
    }
    // The account's own messages are deleted by now, so any left are someone else's.
    Ok(support_message::Entity::find()
        .select_only()
        .column(support_message::Column::Id)
        .filter(support_message::Column::PhotoKey.eq(key))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?
        .is_some())
}
