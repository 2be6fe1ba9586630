//! Business operations. Resolvers call these; transactions live here.
pub mod account_closure;
pub mod accounts;
pub mod catalogue;
pub mod collection_codes;
pub mod cpu;
pub mod enrollment;
pub mod limits;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod photos;
pub mod prints;
pub mod production;
pub mod registry_export;
pub mod review;
pub mod sessions;
pub mod support;
