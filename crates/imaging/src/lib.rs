//! Photo decoding, the preliminary check (初审) and the standard render.

mod decode;

pub use decode::{DecodeError, DecodeLimits, DecodedPhoto, PhotoFormat, decode_upload};
mod face;
mod working;
