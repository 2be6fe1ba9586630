//! Schools, projects, accounts and sessions: what signing in and the admin catalogue need.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Schools {
    Table,
    Id,
    Code,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    SchoolId,
    Name,
    FeatureCode,
    Mode,
    PriceFen,
    OrderNumberPrefix,
    AllowAlbumUpload,
    MaxAutoChecks,
    Background,
    OpensAt,
    ClosesAt,
    PrintLayouts,
    PrintsToSchool,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Role,
    WechatOpenid,
    PhoneEncrypted,
    PhoneMasked,
    AgreementVersion,
    AgreementAcceptedAt,
    Username,
    PasswordHash,
    SchoolId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schools::Table)
                    .col(uuid(Schools::Id).primary_key())
                    .col(string_len_uniq(Schools::Code, 5))
                    .col(string(Schools::Name))
                    .col(timestamp_with_time_zone(Schools::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(uuid(Projects::Id).primary_key())
                    .col(uuid(Projects::SchoolId))
                    .col(string(Projects::Name))
                    // Stored upper-case so the case-insensitive match is an index look-up.
                    .col(string_len_uniq(Projects::FeatureCode, 6))
                    .col(string_len(Projects::Mode, 16))
                    .col(big_integer(Projects::PriceFen))
                    .col(string_len_uniq(Projects::OrderNumberPrefix, 6))
                    .col(boolean(Projects::AllowAlbumUpload))
                    .col(integer(Projects::MaxAutoChecks))
                    .col(string_len(Projects::Background, 16))
                    .col(timestamp_with_time_zone_null(Projects::OpensAt))
                    .col(timestamp_with_time_zone_null(Projects::ClosesAt))
                    .col(json(Projects::PrintLayouts))
                    .col(boolean(Projects::PrintsToSchool))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Projects::Table, Projects::SchoolId)
                            .to(Schools::Table, Schools::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_projects_school")
                    .table(Projects::Table)
                    .col(Projects::SchoolId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(uuid(Accounts::Id).primary_key())
                    .col(string_len(Accounts::Role, 16))
                    .col(string_null(Accounts::WechatOpenid).unique_key())
                    .col(text_null(Accounts::PhoneEncrypted))
                    .col(string_len_null(Accounts::PhoneMasked, 16))
                    .col(string_null(Accounts::AgreementVersion))
                    .col(timestamp_with_time_zone_null(Accounts::AgreementAcceptedAt))
                    .col(string_null(Accounts::Username).unique_key())
                    .col(text_null(Accounts::PasswordHash))
                    .col(uuid_null(Accounts::SchoolId))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Accounts::Table, Accounts::SchoolId)
                            .to(Schools::Table, Schools::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::AccountId))
                    // SHA-256 of the bearer token: a database leak yields no usable token.
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_account")
                    .table(Sessions::Table)
                    .col(Sessions::AccountId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sessions::Table.into_iden(),
            Accounts::Table.into_iden(),
            Projects::Table.into_iden(),
            Schools::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
