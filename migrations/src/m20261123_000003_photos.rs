//! Photos: immutable takes of an enrollment with their preliminary-check result.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
    EnrollmentId,
    Source,
    ObjectKey,
    Sha256,
    Width,
    Height,
    ByteSize,
    ContentType,
    Verdict,
    CheckReport,
    FaceGeometry,
    PreviewKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Photos::Table)
                    .col(uuid(Photos::Id).primary_key())
                    .col(uuid(Photos::EnrollmentId))
                    .col(string_len(Photos::Source, 16))
                    .col(string(Photos::ObjectKey))
                    .col(string_len(Photos::Sha256, 64))
                    .col(integer(Photos::Width))
                    .col(integer(Photos::Height))
                    .col(big_integer(Photos::ByteSize))
                    .col(string_len(Photos::ContentType, 32))
                    .col(string_len(Photos::Verdict, 16))
                    .col(json(Photos::CheckReport))
                    .col(json_null(Photos::FaceGeometry))
                    .col(string_null(Photos::PreviewKey))
                    .col(timestamp_with_time_zone(Photos::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photos::Table, Photos::EnrollmentId)
                            .to(Enrollments::Table, Enrollments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_photos_enrollment")
                    .table(Photos::Table)
                    .col(Photos::EnrollmentId)
                    .col(Photos::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Photos::Table).to_owned())
            .await
    }
}
