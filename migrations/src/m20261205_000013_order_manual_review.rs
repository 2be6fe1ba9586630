//! 提交人工审核: an order whose photo failed the automatic check only on measured judgements
//! (pose, light, sharpness, background...) and was submitted for a reviewer to decide.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    ManualReview,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Every order before this migration had a photo that passed the check.
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(boolean(Orders::ManualReview).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::ManualReview)
                    .to_owned(),
            )
            .await
    }
}
