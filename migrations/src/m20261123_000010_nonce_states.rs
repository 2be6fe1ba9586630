//! Two-phase notification nonces: a nonce is `done` only once its notification was applied, so
//! a crash between claiming it and committing does not make WeChat's retry look like a replay.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentNonces {
    Table,
    Done,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Nonces recorded before this migration were all applied.
        manager
            .alter_table(
                Table::alter()
                    .table(PaymentNonces::Table)
                    .add_column(boolean(PaymentNonces::Done).default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PaymentNonces::Table)
                    .drop_column(PaymentNonces::Done)
                    .to_owned(),
            )
            .await
    }
}
