//! Orders with their append-only event log (also the outbox), WeChat Pay payments and refunds, and
//! the notification nonces seen (replay protection when Redis is not configured).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    Number,
    AccountId,
    EnrollmentId,
    ProjectId,
    SchoolId,
    IdentityKey,
    /// The identity key while the order is open, NULL once closed or refunded: a unique index on
    /// it allows one open order per student.
    OpenIdentityKey,
    Kind,
    Status,
    AmountFen,
    PhotoId,
    NotificationConsent,
    RejectionCode,
    RejectionMessage,
    RejectedBy,
    RejectedAt,
    RefundPending,
    Version,
    DeliverableKey,
    CreatedAt,
    UpdatedAt,
    PaidAt,
    CompletedAt,
    ClosedAt,
    RefundedAt,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    Sequence,
    FromStatus,
    ToStatus,
    Event,
    Actor,
    ActorAccountId,
    ReasonCode,
    Message,
    Payload,
    CreatedAt,
    PublishedAt,
    FeedSeq,
}

/// One row: the last `order_events.feed_seq` handed out. Locking it serialises the relays of
/// every instance.
#[derive(DeriveIden)]
enum FeedCounter {
    Table,
    Id,
    LastSeq,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Provider,
    OutTradeNo,
    PrepayId,
    PrepayCreatedAt,
    TransactionId,
    AmountFen,
    PayerOpenid,
    State,
    Notification,
    CreatedAt,
    UpdatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    PaymentId,
    OrderId,
    OutRefundNo,
    RefundId,
    AmountFen,
    Reason,
    State,
    RequestedBy,
    FailureReason,
    Notification,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum PaymentNonces {
    Table,
    Nonce,
    SeenAt,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c);
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(uuid(Orders::Id).primary_key())
                    .col(string_len(Orders::Number, 32).unique_key())
                    .col(uuid_null(Orders::AccountId))
                    .col(uuid(Orders::EnrollmentId))
                    .col(uuid(Orders::ProjectId))
                    .col(uuid(Orders::SchoolId))
                    .col(string(Orders::IdentityKey))
                    .col(string_null(Orders::OpenIdentityKey))
                    .col(string_len(Orders::Kind, 16))
                    .col(string_len(Orders::Status, 32))
                    .col(big_integer(Orders::AmountFen))
                    .col(uuid(Orders::PhotoId))
                    .col(boolean(Orders::NotificationConsent))
                    .col(string_null(Orders::RejectionCode))
                    .col(string_null(Orders::RejectionMessage))
                    .col(uuid_null(Orders::RejectedBy))
                    .col(timestamp_with_time_zone_null(Orders::RejectedAt))
                    .col(boolean(Orders::RefundPending).default(false))
                    .col(integer(Orders::Version))
                    .col(string_null(Orders::DeliverableKey))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Orders::PaidAt))
                    .col(timestamp_with_time_zone_null(Orders::CompletedAt))
                    .col(timestamp_with_time_zone_null(Orders::ClosedAt))
                    .col(timestamp_with_time_zone_null(Orders::RefundedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::EnrollmentId)
                            .to(Enrollments::Table, Enrollments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::PhotoId)
                            .to(Photos::Table, Photos::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::ProjectId)
                            .to(Projects::Table, Projects::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_orders_open_identity",
            Orders::Table,
            vec![Orders::OpenIdentityKey.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "idx_orders_account",
            Orders::Table,
            vec![Orders::AccountId.into_iden(), Orders::Id.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            "idx_orders_school_status",
            Orders::Table,
            vec![
                Orders::SchoolId.into_iden(),
                Orders::Status.into_iden(),
                Orders::Id.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "idx_orders_status_created",
            Orders::Table,
            vec![Orders::Status.into_iden(), Orders::CreatedAt.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderEvents::Table)
                    .col(uuid(OrderEvents::Id).primary_key())
                    .col(uuid(OrderEvents::OrderId))
                    .col(integer(OrderEvents::Sequence))
                    .col(string_len_null(OrderEvents::FromStatus, 32))
                    .col(string_len(OrderEvents::ToStatus, 32))
                    .col(string_len(OrderEvents::Event, 32))
                    .col(string_len(OrderEvents::Actor, 16))
                    .col(uuid_null(OrderEvents::ActorAccountId))
                    .col(string_null(OrderEvents::ReasonCode))
                    .col(text_null(OrderEvents::Message))
                    .col(json_null(OrderEvents::Payload))
                    .col(timestamp_with_time_zone(OrderEvents::CreatedAt))
                    .col(timestamp_with_time_zone_null(OrderEvents::PublishedAt))
                    .col(big_integer_null(OrderEvents::FeedSeq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderEvents::Table, OrderEvents::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_order_events_sequence",
            OrderEvents::Table,
            vec![
                OrderEvents::OrderId.into_iden(),
                OrderEvents::Sequence.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            manager,
            "uq_order_events_feed_seq",
            OrderEvents::Table,
            vec![OrderEvents::FeedSeq.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(FeedCounter::Table)
                    .col(integer(FeedCounter::Id).primary_key())
                    .col(big_integer(FeedCounter::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(FeedCounter::Table)
                    .columns([FeedCounter::Id, FeedCounter::LastSeq])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_order_events_unpublished",
            OrderEvents::Table,
            vec![
                OrderEvents::PublishedAt.into_iden(),
                OrderEvents::Id.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(uuid(Payments::Id).primary_key())
                    .col(uuid_null(Payments::OrderId))
                    .col(string_len(Payments::Provider, 16))
                    .col(string_len(Payments::OutTradeNo, 32).unique_key())
                    .col(string_null(Payments::PrepayId))
                    .col(timestamp_with_time_zone_null(Payments::PrepayCreatedAt))
                    .col(string_len_null(Payments::TransactionId, 64).unique_key())
                    .col(big_integer(Payments::AmountFen))
                    .col(string_null(Payments::PayerOpenid))
                    .col(string_len(Payments::State, 16))
                    .col(json_null(Payments::Notification))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Payments::PaidAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payments::Table, Payments::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_payments_order",
            Payments::Table,
            vec![Payments::OrderId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Refunds::Table)
                    .col(uuid(Refunds::Id).primary_key())
                    .col(uuid(Refunds::PaymentId))
                    .col(uuid_null(Refunds::OrderId))
                    .col(string_len(Refunds::OutRefundNo, 64).unique_key())
                    .col(string_len_null(Refunds::RefundId, 64))
                    .col(big_integer(Refunds::AmountFen))
                    .col(string(Refunds::Reason))
                    .col(string_len(Refunds::State, 16))
                    .col(uuid_null(Refunds::RequestedBy))
                    .col(string_null(Refunds::FailureReason))
                    .col(json_null(Refunds::Notification))
                    .col(timestamp_with_time_zone(Refunds::CreatedAt))
                    .col(timestamp_with_time_zone(Refunds::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Refunds::CompletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Refunds::Table, Refunds::PaymentId)
                            .to(Payments::Table, Payments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_refunds_order",
            Refunds::Table,
            vec![Refunds::OrderId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PaymentNonces::Table)
                    .col(string_len(PaymentNonces::Nonce, 64).primary_key())
                    .col(timestamp_with_time_zone(PaymentNonces::SeenAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_payment_nonces_seen",
            PaymentNonces::Table,
            vec![PaymentNonces::SeenAt.into_iden()],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FeedCounter::Table.into_iden(),
            PaymentNonces::Table.into_iden(),
            Refunds::Table.into_iden(),
            Payments::Table.into_iden(),
            OrderEvents::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
