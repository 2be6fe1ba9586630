//! The student's journey as the service runs it: projects that take payment first (先付款后拍照),
//! the virtual shipment of a completed photo order
//! reported to WeChat (虚拟发货), the capture-guide version a student read, the privacy notice
//! (个人信息保护) accepted apart from the agreement, and the registry's (学信网) answer per exported
//! order, with school downloads kept apart from exports to the registry.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    ShippingUploadedAt,
    ShippingUploadError,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    PayFirst,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    CaptureGuideVersion,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    PrivacyVersion,
    PrivacyAcceptedAt,
}

#[derive(DeriveIden)]
enum RegistryExports {
    Table,
    Purpose,
}

#[derive(DeriveIden)]
enum RegistryExportItems {
    Table,
    Outcome,
    OutcomeMessage,
    SettledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        let add = |table: DynIden, column: ColumnDef| {
            Table::alter().table(table).add_column(column).to_owned()
        };
        for statement in [
            add(
                Orders::Table.into_iden(),
                timestamp_with_time_zone_null(Orders::ShippingUploadedAt),
            ),
            add(
                Orders::Table.into_iden(),
                string_null(Orders::ShippingUploadError),
            ),
            add(
                Enrollments::Table.into_iden(),
                string_len_null(Enrollments::CaptureGuideVersion, 32),
            ),
            // 先付款后拍照; every project before this one took the photo first.
            add(
                Projects::Table.into_iden(),
                boolean(Projects::PayFirst).default(false).to_owned(),
            ),
            add(
                Accounts::Table.into_iden(),
                string_len_null(Accounts::PrivacyVersion, 32),
            ),
            add(
                Accounts::Table.into_iden(),
                timestamp_with_time_zone_null(Accounts::PrivacyAcceptedAt),
            ),
            // Every export before this one went to the registry.
            add(
                RegistryExports::Table.into_iden(),
                string_len(RegistryExports::Purpose, 16)
                    .default("REGISTRY")
                    .to_owned(),
            ),
            add(
                RegistryExportItems::Table.into_iden(),
                string_len_null(RegistryExportItems::Outcome, 16),
            ),
            add(
                RegistryExportItems::Table.into_iden(),
                string_null(RegistryExportItems::OutcomeMessage),
            ),
            add(
                RegistryExportItems::Table.into_iden(),
                timestamp_with_time_zone_null(RegistryExportItems::SettledAt),
            ),
        ] {
            manager.alter_table(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = |table: DynIden, column: DynIden| {
            Table::alter().table(table).drop_column(column).to_owned()
        };
        for statement in [
            drop(
                RegistryExportItems::Table.into_iden(),
                RegistryExportItems::SettledAt.into_iden(),
            ),
            drop(
                RegistryExportItems::Table.into_iden(),
                RegistryExportItems::OutcomeMessage.into_iden(),
            ),
            drop(
                RegistryExportItems::Table.into_iden(),
                RegistryExportItems::Outcome.into_iden(),
            ),
            drop(
                RegistryExports::Table.into_iden(),
                RegistryExports::Purpose.into_iden(),
            ),
            drop(
                Accounts::Table.into_iden(),
                Accounts::PrivacyAcceptedAt.into_iden(),
            ),
            drop(
                Accounts::Table.into_iden(),
                Accounts::PrivacyVersion.into_iden(),
            ),
            drop(Projects::Table.into_iden(), Projects::PayFirst.into_iden()),
            drop(
                Enrollments::Table.into_iden(),
                Enrollments::CaptureGuideVersion.into_iden(),
            ),
            drop(
                Orders::Table.into_iden(),
                Orders::ShippingUploadError.into_iden(),
            ),
            drop(
                Orders::Table.into_iden(),
                Orders::ShippingUploadedAt.into_iden(),
            ),
        ] {
            manager.alter_table(statement).await?;
        }
        Ok(())
    }
}
