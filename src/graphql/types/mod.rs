//! GraphQL object types. Each wraps a row and resolves its fields; rules live in services.
pub mod account;
pub mod collection_code;
pub mod console;
pub mod enrollment;
pub mod enums;
pub mod money;
pub mod order;
pub mod photo;
pub mod print_order;
pub mod production;
pub mod project;
pub mod school;
pub mod service_info;
pub mod support;
pub mod viewer;
