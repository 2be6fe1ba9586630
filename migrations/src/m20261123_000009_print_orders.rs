//! 加洗照片: print orders of completed photos, and the links from payments, refunds and the audit
//! trail to them.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PrintOrders {
    Table,
    Id,
    OrderId,
    AccountId,
    SchoolId,
    /// `<order number>-P<n>`: also WeChat Pay's out_trade_no.
    Number,
    Status,
    LayoutCode,
    LayoutName,
    UnitPriceFen,
    Quantity,
    AmountFen,
    ToSchool,
    /// The address as JSON, sealed with the field key (it holds a name and a phone number).
    AddressSealed,
    /// The carrier's WeChat delivery id (SF, ZTO, …).
    Carrier,
    TrackingNumber,
    ShippedAt,
    ShippedBy,
    /// When WeChat accepted the shipping information; NULL while it still has to be sent.
    ShippingUploadedAt,
    ShippingUploadError,
    RefundPending,
    PaidAt,
    CompletedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    PrintOrderId,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    PrintOrderId,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    PrintOrderId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PrintOrders::Table)
                    .col(uuid(PrintOrders::Id).primary_key())
                    .col(uuid(PrintOrders::OrderId))
                    .col(uuid_null(PrintOrders::AccountId))
                    .col(uuid(PrintOrders::SchoolId))
                    .col(string_len(PrintOrders::Number, 32).unique_key())
                    .col(string_len(PrintOrders::Status, 24))
                    .col(string_len(PrintOrders::LayoutCode, 32))
                    .col(string_len(PrintOrders::LayoutName, 64))
                    .col(big_integer(PrintOrders::UnitPriceFen))
                    .col(integer(PrintOrders::Quantity))
                    .col(big_integer(PrintOrders::AmountFen))
                    .col(boolean(PrintOrders::ToSchool))
                    .col(text_null(PrintOrders::AddressSealed))
                    .col(string_len_null(PrintOrders::Carrier, 16))
                    .col(string_len_null(PrintOrders::TrackingNumber, 32))
                    .col(timestamp_with_time_zone_null(PrintOrders::ShippedAt))
                    .col(uuid_null(PrintOrders::ShippedBy))
                    .col(timestamp_with_time_zone_null(
                        PrintOrders::ShippingUploadedAt,
                    ))
                    .col(text_null(PrintOrders::ShippingUploadError))
                    .col(boolean(PrintOrders::RefundPending).default(false))
                    .col(timestamp_with_time_zone_null(PrintOrders::PaidAt))
                    .col(timestamp_with_time_zone_null(PrintOrders::CompletedAt))
                    .col(integer(PrintOrders::Version))
                    .col(timestamp_with_time_zone(PrintOrders::CreatedAt))
                    .col(timestamp_with_time_zone(PrintOrders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_print_orders_order", vec![PrintOrders::OrderId]),
            ("idx_print_orders_account", vec![PrintOrders::AccountId]),
            (
                "idx_print_orders_status_school",
                vec![PrintOrders::Status, PrintOrders::SchoolId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(PrintOrders::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .add_column(uuid_null(Payments::PrintOrderId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Refunds::Table)
                    .add_column(uuid_null(Refunds::PrintOrderId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrderEvents::Table)
                    .add_column(uuid_null(OrderEvents::PrintOrderId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (
                Payments::Table.into_iden(),
                Payments::PrintOrderId.into_iden(),
            ),
            (
                Refunds::Table.into_iden(),
                Refunds::PrintOrderId.into_iden(),
            ),
            (
                OrderEvents::Table.into_iden(),
                OrderEvents::PrintOrderId.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PrintOrders::Table).to_owned())
            .await
    }
}
