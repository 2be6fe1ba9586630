//! The operators' console: blind indexes to find a student by phone or name, staff accounts
//! that can be disabled or made to choose a new password, projects closed by hand, automatic
//! checks granted by staff, and the audit trail of what operators changed.
//!
//! The blind indexes need the secret key, which migrations do not have: rows written before this
//! migration are indexed at start (`services::search::backfill_indexes`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    PhoneIndex,
    DisabledAt,
    MustChangePassword,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    NameIndex,
    StudentNumber,
    AutoChecksGranted,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    ManualReviewGrantedAt,
}

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Id,
    ActorAccountId,
    Action,
    TargetType,
    TargetId,
    SchoolId,
    Before,
    After,
    CreatedAt,
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
                Accounts::Table.into_iden(),
                string_len_null(Accounts::PhoneIndex, 64),
            ),
            add(
                Accounts::Table.into_iden(),
                timestamp_with_time_zone_null(Accounts::DisabledAt),
            ),
            add(
                Accounts::Table.into_iden(),
                boolean(Accounts::MustChangePassword)
                    .default(false)
                    .to_owned(),
            ),
            add(
                Enrollments::Table.into_iden(),
                string_len_null(Enrollments::NameIndex, 64),
            ),
            add(
                Enrollments::Table.into_iden(),
                integer(Enrollments::AutoChecksGranted)
                    .default(0)
                    .to_owned(),
            ),
            add(
                Projects::Table.into_iden(),
                timestamp_with_time_zone_null(Projects::ClosedAt),
            ),
            add(
                Photos::Table.into_iden(),
                timestamp_with_time_zone_null(Photos::ManualReviewGrantedAt),
            ),
        ] {
            manager.alter_table(statement).await?;
        }
        for (name, table, column) in [
            (
                "idx_accounts_phone_index",
                Accounts::Table.into_iden(),
                Accounts::PhoneIndex.into_iden(),
            ),
            (
                "idx_enrollments_name_index",
                Enrollments::Table.into_iden(),
                Enrollments::NameIndex.into_iden(),
            ),
            (
                "idx_enrollments_student_number",
                Enrollments::Table.into_iden(),
                Enrollments::StudentNumber.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditRecords::Table)
                    .col(uuid(AuditRecords::Id).primary_key())
                    .col(uuid(AuditRecords::ActorAccountId))
                    .col(string_len(AuditRecords::Action, 48))
                    .col(string_len(AuditRecords::TargetType, 32))
                    .col(uuid(AuditRecords::TargetId))
                    .col(uuid_null(AuditRecords::SchoolId))
                    .col(json_null(AuditRecords::Before))
                    .col(json_null(AuditRecords::After))
                    .col(timestamp_with_time_zone(AuditRecords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_records_target")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::TargetId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditRecords::Table).to_owned())
            .await?;
        for name in [
            "idx_accounts_phone_index",
            "idx_enrollments_name_index",
            "idx_enrollments_student_number",
        ] {
            manager
                .drop_index(Index::drop().if_exists().name(name).to_owned())
                .await?;
        }
        let drop = |table: DynIden, column: DynIden| {
            Table::alter().table(table).drop_column(column).to_owned()
        };
        for statement in [
            drop(
                Photos::Table.into_iden(),
                Photos::ManualReviewGrantedAt.into_iden(),
            ),
            drop(Projects::Table.into_iden(), Projects::ClosedAt.into_iden()),
            drop(
                Enrollments::Table.into_iden(),
                Enrollments::AutoChecksGranted.into_iden(),
            ),
            drop(
                Enrollments::Table.into_iden(),
                Enrollments::NameIndex.into_iden(),
            ),
            drop(
                Accounts::Table.into_iden(),
                Accounts::MustChangePassword.into_iden(),
            ),
            drop(
                Accounts::Table.into_iden(),
                Accounts::DisabledAt.into_iden(),
            ),
            drop(
                Accounts::Table.into_iden(),
                Accounts::PhoneIndex.into_iden(),
            ),
        ] {
            manager.alter_table(statement).await?;
        }
        Ok(())
    }
}
