//! sea-orm entities, one module per table. Row ids are UUIDv7 (time-ordered) and never shown.
pub mod account;
pub mod audit_record;
pub mod deployment_setting;
pub mod enrollment;
pub mod failed_attempt;
pub mod order;
pub mod order_event;
pub mod outbound_message;
pub mod payment;
pub mod payment_nonce;
pub mod photo;
pub mod positional;
pub mod print_order;
pub mod production_batch;
pub mod production_item;
pub mod project;
pub mod refund;
pub mod registry_export;
pub mod registry_export_item;
pub mod review_claim;
pub mod sandbox_trade;
pub mod school;
pub mod session;
pub mod support_message;
pub mod support_ticket;

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The row of `E` with this id, or NOT_FOUND saying `missing`. The per-table `find` functions
/// name the message once, so services stop writing `find_by_id(..).ok_or(..)` by hand.
async fn find_or<E>(
    db: &impl ConnectionTrait,
    id: Uuid,
    missing: &'static str,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(missing))
}
