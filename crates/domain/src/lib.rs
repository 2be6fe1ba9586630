//! Pure domain rules of campus-photo. Nothing here does I/O; everything is unit-tested.
#[macro_use]
mod macros;

pub mod account_deletion;
pub mod capture_guide;
pub mod codes;
pub mod field_crypto;
pub mod id_number;
pub mod money;
pub mod names;
pub mod order;
pub mod order_number;
pub mod phone;
pub mod print_order;
pub mod reasons;
pub mod records;

pub use macros::ParseEnumError;
