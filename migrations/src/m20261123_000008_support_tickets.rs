//! 在线客服: support tickets opened by students (optionally about an order) and their messages.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SupportTickets {
    Table,
    Id,
    AccountId,
    OrderId,
    /// The order's school: school staff see their school's tickets; tickets about no order
    /// are for admins.
    SchoolId,
    Subject,
    Open,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupportMessages {
    Table,
    Id,
    TicketId,
    AuthorAccountId,
    AuthorRole,
    Text,
    PhotoKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupportTickets::Table)
                    .col(uuid(SupportTickets::Id).primary_key())
                    .col(uuid_null(SupportTickets::AccountId))
                    .col(uuid_null(SupportTickets::OrderId))
                    .col(uuid_null(SupportTickets::SchoolId))
                    .col(string_len(SupportTickets::Subject, 120))
                    .col(boolean(SupportTickets::Open))
                    .col(timestamp_with_time_zone(SupportTickets::CreatedAt))
                    .col(timestamp_with_time_zone(SupportTickets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_support_tickets_account")
                    .table(SupportTickets::Table)
                    .col(SupportTickets::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_support_tickets_open_school")
                    .table(SupportTickets::Table)
                    .col(SupportTickets::Open)
                    .col(SupportTickets::SchoolId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupportMessages::Table)
                    .col(uuid(SupportMessages::Id).primary_key())
                    .col(uuid(SupportMessages::TicketId))
                    .col(uuid_null(SupportMessages::AuthorAccountId))
                    .col(string_len(SupportMessages::AuthorRole, 16))
                    .col(text(SupportMessages::Text))
                    .col(string_null(SupportMessages::PhotoKey))
                    .col(timestamp_with_time_zone(SupportMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupportMessages::Table, SupportMessages::TicketId)
                            .to(SupportTickets::Table, SupportTickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_support_messages_ticket")
                    .table(SupportMessages::Table)
                    .col(SupportMessages::TicketId)
                    .col(SupportMessages::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupportMessages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SupportTickets::Table).to_owned())
            .await
    }
}
