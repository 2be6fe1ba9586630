//! campus-photo imaging: decoding uploads under limits, the preliminary check (初审) of an ID
//! photo, and the standard 480×640 render.
//!
//! Pure and synchronous: no I/O, no async. The server calls these inside `spawn_blocking`
//! behind a semaphore. Issue codes and their Chinese messages come from the one catalogue in
//! `campus_photo_domain::reasons`.

mod background;
mod check;
mod decode;
mod face;
mod measures;
mod placement;
mod render;
mod report;
mod spec;
pub mod thresholds;
mod working;

pub use check::check;
pub use decode::{DecodeError, DecodeLimits, DecodedPhoto, PhotoFormat, decode_upload};
pub use face::geometry::{Backdrop, FaceGeometry, Point};
pub use face::models::{ModelError, load as load_models};
pub use render::{JpegQuality, RenderError, RenderedPhoto, render_standard};
pub use report::{CheckReport, Issue, Measure, Severity, Verdict};
pub use spec::{Band, CheckSpec, RenderGeometry};
pub use thresholds::{Rule, Thresholds};
