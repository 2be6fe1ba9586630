//! Database migrations of campus-photo. One migration per file; a landed migration is never edited —
//! changes come as new files.
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts_and_catalogue;
mod m20261123_000002_enrollments;
mod m20261123_000003_photos;
mod m20261123_000004_orders_and_payments;
mod m20261123_000005_review_production_export;
mod m20261123_000006_outbound_messages;
mod m20261123_000007_account_deletion;
mod m20261123_000008_support_tickets;
mod m20261123_000009_print_orders;
mod m20261123_000010_nonce_states;
mod m20261205_000011_hardening;
mod m20261205_000013_order_manual_review;
mod m20261205_000014_shared_order_prefix;
mod m20261205_000015_student_journey;
mod m20261205_000016_operators_console;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts_and_catalogue::Migration),
            Box::new(m20261123_000002_enrollments::Migration),
            Box::new(m20261123_000003_photos::Migration),
            Box::new(m20261123_000004_orders_and_payments::Migration),
            Box::new(m20261123_000005_review_production_export::Migration),
            Box::new(m20261123_000006_outbound_messages::Migration),
            Box::new(m20261123_000007_account_deletion::Migration),
            Box::new(m20261123_000008_support_tickets::Migration),
            Box::new(m20261123_000009_print_orders::Migration),
            Box::new(m20261123_000010_nonce_states::Migration),
            Box::new(m20261205_000011_hardening::Migration),
            Box::new(m20261205_000013_order_manual_review::Migration),
            Box::new(m20261205_000014_shared_order_prefix::Migration),
            Box::new(m20261205_000015_student_journey::Migration),
            Box::new(m20261205_000016_operators_console::Migration),
        ]
    }
}
