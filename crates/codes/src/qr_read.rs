//! Finding and decoding the QR code in a phone photo or screenshot.
//!
//! A plan of attempts, cheapest and most likely first (`attempts`): a few
//! scales, several binarisations, inversion. Each attempt runs rqrr (which
//! decodes clean codes outright) and our own finder-pattern search
//! (`finder`); symbols that are found but not decoded are fitted, aligned
//! and read on the grey image (`resample`), which is what reads small,
//! blurred modules under perspective. rqrr does the Reed–Solomon decoding
//! throughout. The first `CQ1.` text wins (another text is returned only if
//! no `CQ1.` code turns up), and no attempt starts once the caller's budget
//! is spent.

mod align;
mod attempts;
mod binarize;
mod candidate;
mod deadline;
mod finder;
mod finder_fit;
mod grey;
mod homography;
mod layout;
mod locate;
mod modules;
mod perspective;
mod resample;
mod search;

use std::time::Duration;

use image::DynamicImage;
use thiserror::Error;

pub use search::ReadStats;

/// Why no text came out of the image.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrReadError {
    /// Every attempt ran and none decoded a code.
    #[error("no QR code found")]
    NotFound,
    /// The budget ran out before every attempt had run; a later attempt
    /// might have succeeded.
    #[error("no QR code found within the time budget")]
    TimedOut,
}

impl QrReadError {
    /// The API error code: either way the student must retake the photo.
    pub fn code(&self) -> &'static str {
        "QR_NOT_FOUND"
    }
}

/// Find and decode a QR code in `image`, spending at most about `budget`
/// (an attempt already running finishes; on 12-megapixel input one attempt
/// takes up to a few hundred milliseconds in release builds).
pub fn read_qr(image: &DynamicImage, budget: Duration) -> Result<String, QrReadError> {
    read_qr_with_stats(image, budget).0
}

/// [`read_qr`], also reporting what it tried, for logs and the benchmark.
pub fn read_qr_with_stats(
    image: &DynamicImage,
    budget: Duration,
) -> (Result<String, QrReadError>, ReadStats) {
    search::run(image, deadline::Deadline::after(budget))
}
