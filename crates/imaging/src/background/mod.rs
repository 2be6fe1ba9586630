//! The backdrop: its colour model and the background measures.

pub mod measure;
pub mod model;
