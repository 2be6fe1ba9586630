//! sea-orm entities, one module per table. Row ids are UUIDv7 (time-ordered) and never shown.
pub mod account;
pub mod enrollment;
pub mod failed_attempt;
pub mod photo;
pub mod project;
pub mod school;
pub mod session;
