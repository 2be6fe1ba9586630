//! Business operations. Resolvers call these; transactions live here.
pub mod accounts;
pub mod catalogue;
pub mod sessions;
