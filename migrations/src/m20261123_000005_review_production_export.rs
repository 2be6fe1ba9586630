//! Review claims (leases), production batches with their items, registry exports, and the
//! reviewer's optional note on a rejection.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    RejectionNote,
}

#[derive(DeriveIden)]
enum ReviewClaims {
    Table,
    /// One claim per order: the primary key is what stops two reviewers holding one order.
    OrderId,
    ReviewerId,
    ClaimedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ProductionBatches {
    Table,
    Id,
    SchoolId,
    CreatedBy,
    Total,
    Done,
    Failed,
    State,
    /// Which instance runs the batch, until when (renewed while it works).
    LeaseOwner,
    LeaseExpiresAt,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ProductionItems {
    Table,
    BatchId,
    OrderId,
    State,
    Error,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RegistryExports {
    Table,
    Id,
    SchoolId,
    CreatedBy,
    Count,
    ObjectKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RegistryExportItems {
    Table,
    /// Primary key: an order goes into one export only.
    OrderId,
    ExportId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(text_null(Orders::RejectionNote))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewClaims::Table)
                    .col(uuid(ReviewClaims::OrderId).primary_key())
                    .col(uuid(ReviewClaims::ReviewerId))
                    .col(timestamp_with_time_zone(ReviewClaims::ClaimedAt))
                    .col(timestamp_with_time_zone(ReviewClaims::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewClaims::Table, ReviewClaims::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductionBatches::Table)
                    .col(uuid(ProductionBatches::Id).primary_key())
                    .col(uuid_null(ProductionBatches::SchoolId))
                    .col(uuid(ProductionBatches::CreatedBy))
                    .col(integer(ProductionBatches::Total))
                    .col(integer(ProductionBatches::Done))
                    .col(integer(ProductionBatches::Failed))
                    .col(string_len(ProductionBatches::State, 16))
                    .col(string_null(ProductionBatches::LeaseOwner))
                    .col(timestamp_with_time_zone_null(
                        ProductionBatches::LeaseExpiresAt,
                    ))
                    .col(timestamp_with_time_zone(ProductionBatches::CreatedAt))
                    .col(timestamp_with_time_zone_null(ProductionBatches::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductionItems::Table)
                    .col(uuid(ProductionItems::BatchId))
                    .col(uuid(ProductionItems::OrderId))
                    .col(string_len(ProductionItems::State, 16))
                    .col(text_null(ProductionItems::Error))
                    .col(timestamp_with_time_zone(ProductionItems::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ProductionItems::BatchId)
                            .col(ProductionItems::OrderId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductionItems::Table, ProductionItems::BatchId)
                            .to(ProductionBatches::Table, ProductionBatches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RegistryExports::Table)
                    .col(uuid(RegistryExports::Id).primary_key())
                    .col(uuid(RegistryExports::SchoolId))
                    .col(uuid(RegistryExports::CreatedBy))
                    .col(integer(RegistryExports::Count))
                    .col(string(RegistryExports::ObjectKey))
                    .col(timestamp_with_time_zone(RegistryExports::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RegistryExportItems::Table)
                    .col(uuid(RegistryExportItems::OrderId).primary_key())
                    .col(uuid(RegistryExportItems::ExportId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RegistryExportItems::Table, RegistryExportItems::ExportId)
                            .to(RegistryExports::Table, RegistryExports::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RegistryExportItems::Table.into_iden(),
            RegistryExports::Table.into_iden(),
            ProductionItems::Table.into_iden(),
            ProductionBatches::Table.into_iden(),
            ReviewClaims::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::RejectionNote)
                    .to_owned(),
            )
            .await
    }
}
