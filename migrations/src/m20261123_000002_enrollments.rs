//! Enrollments (采集信息) and the failed-attempt log that bounds guessing ID-number tails.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
    AccountId,
    ProjectId,
    SchoolId,
    Source,
    IdentityKey,
    RegistryStudentId,
    NameMasked,
    NameEncrypted,
    IdNumberMasked,
    IdNumberEncrypted,
    IdNumberIndex,
    College,
    Major,
    StudentNumber,
    AdmissionNumber,
    EducationLevel,
    GraduationYear,
    CodeExpiresAt,
    CaptureGuideAcknowledgedAt,
    AutoChecksUsed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FailedAttempts {
    Table,
    Id,
    AccountId,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Schools {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Enrollments::Table)
                    .col(uuid(Enrollments::Id).primary_key())
                    // Nullable so a deleted account's enrollments can be kept, unlinked.
                    .col(uuid_null(Enrollments::AccountId))
                    .col(uuid(Enrollments::ProjectId))
                    .col(uuid(Enrollments::SchoolId))
                    .col(string_len(Enrollments::Source, 24))
                    // The registry student id, or for freshmen the ID number's blind index:
                    // one person has one enrollment per project.
                    .col(string(Enrollments::IdentityKey))
                    .col(string_null(Enrollments::RegistryStudentId))
                    .col(string(Enrollments::NameMasked))
                    .col(text_null(Enrollments::NameEncrypted))
                    .col(string(Enrollments::IdNumberMasked))
                    .col(text_null(Enrollments::IdNumberEncrypted))
                    .col(string_len_null(Enrollments::IdNumberIndex, 64))
                    .col(string_null(Enrollments::College))
                    .col(string_null(Enrollments::Major))
                    .col(string_null(Enrollments::StudentNumber))
                    .col(string_null(Enrollments::AdmissionNumber))
                    .col(string_null(Enrollments::EducationLevel))
                    .col(integer_null(Enrollments::GraduationYear))
                    .col(timestamp_with_time_zone_null(Enrollments::CodeExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        Enrollments::CaptureGuideAcknowledgedAt,
                    ))
                    .col(integer(Enrollments::AutoChecksUsed).default(0))
                    .col(timestamp_with_time_zone(Enrollments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrollments::Table, Enrollments::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrollments::Table, Enrollments::ProjectId)
                            .to(Projects::Table, Projects::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrollments::Table, Enrollments::SchoolId)
                            .to(Schools::Table, Schools::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_enrollments_project_identity")
                    .table(Enrollments::Table)
                    .col(Enrollments::ProjectId)
                    .col(Enrollments::IdentityKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_enrollments_account")
                    .table(Enrollments::Table)
                    .col(Enrollments::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_enrollments_id_number_index")
                    .table(Enrollments::Table)
                    .col(Enrollments::IdNumberIndex)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FailedAttempts::Table)
                    .col(uuid(FailedAttempts::Id).primary_key())
                    .col(uuid(FailedAttempts::AccountId))
                    .col(string_len(FailedAttempts::Kind, 32))
                    .col(timestamp_with_time_zone(FailedAttempts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FailedAttempts::Table, FailedAttempts::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_failed_attempts_account_kind")
                    .table(FailedAttempts::Table)
                    .col(FailedAttempts::AccountId)
                    .col(FailedAttempts::Kind)
                    .col(FailedAttempts::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FailedAttempts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Enrollments::Table).to_owned())
            .await
    }
}
