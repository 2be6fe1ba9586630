//! Hardening: where a session was opened from (staff sign-in trusts familiar addresses), the
//! deployment's settings (the secret key's fingerprint), and the payment sandbox's trades, kept
//! across restarts like WeChat Pay keeps them.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    OpenedFrom,
}

#[derive(DeriveIden)]
enum DeploymentSettings {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SandboxTrades {
    Table,
    OutTradeNo,
    Trade,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_null(Sessions::OpenedFrom))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DeploymentSettings::Table)
                    .if_not_exists()
                    .col(string(DeploymentSettings::Name).primary_key())
                    .col(string(DeploymentSettings::Value))
                    .col(timestamp_with_time_zone(DeploymentSettings::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SandboxTrades::Table)
                    .if_not_exists()
                    .col(string(SandboxTrades::OutTradeNo).primary_key())
                    .col(json(SandboxTrades::Trade))
                    .col(timestamp_with_time_zone(SandboxTrades::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SandboxTrades::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DeploymentSettings::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::OpenedFrom)
                    .to_owned(),
            )
            .await
    }
}
