//! Business operations. Resolvers call these; transactions live here.
pub mod accounts;
pub mod catalogue;
pub mod collection_codes;
pub mod cpu;
pub mod enrollment;
pub mod photos;
pub mod sessions;
