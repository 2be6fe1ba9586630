//! WeChat subscription messages sent (or tried) to students, one per order event at most.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboundMessages {
    Table,
    Id,
    /// Unique: of several instances hearing the same event, one sends.
    EventId,
    OrderId,
    AccountId,
    Provider,
    TemplateId,
    Page,
    Data,
    State,
    Attempts,
    ErrorCode,
    Error,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboundMessages::Table)
                    .col(uuid(OutboundMessages::Id).primary_key())
                    .col(uuid(OutboundMessages::EventId).unique_key())
                    .col(uuid(OutboundMessages::OrderId))
                    .col(uuid(OutboundMessages::AccountId))
                    .col(string_len(OutboundMessages::Provider, 16))
                    .col(string(OutboundMessages::TemplateId))
                    .col(string(OutboundMessages::Page))
                    .col(json(OutboundMessages::Data))
                    .col(string_len(OutboundMessages::State, 16))
                    .col(integer(OutboundMessages::Attempts))
                    .col(big_integer_null(OutboundMessages::ErrorCode))
                    .col(text_null(OutboundMessages::Error))
                    .col(timestamp_with_time_zone(OutboundMessages::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboundMessages::SentAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboundMessages::Table).to_owned())
            .await
    }
}
