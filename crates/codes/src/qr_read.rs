//! Finding and decoding the QR code in a phone photo or screenshot.
//!
//! rqrr does the finder-pattern search and the Reed–Solomon decoding; around
//! it, a plan of cheap-to-expensive attempts (scales, binarisations,
//! inversion) and a grey-level resampler for grids rqrr finds but cannot
//! read. The first decoded text wins, a `CQ1.` text over any other, and no
//! attempt starts after the caller's budget is spent.

mod binarize;
mod candidate;
mod deadline;
mod finder;
mod finder_fit;
mod grey;
mod homography;
mod layout;
mod locate;
mod perspective;
mod plan;
mod resample;
mod timing;

use std::time::Duration;

use image::DynamicImage;
use thiserror::Error;

pub use plan::ReadStats;

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
    plan::run(image, deadline::Deadline::after(budget))
}

#[doc(hidden)]
pub fn __debug_binarize(img: &DynamicImage, r: usize, bias: u8, up: usize) -> image::GrayImage {
    let g = grey::Grey::from_image(img).upscale(up);
    let b = binarize::adaptive(&g, r, bias);
    image::GrayImage::from_fn(b.w as u32, b.h as u32, |x, y| image::Luma([if b.dark[y as usize * b.w + x as usize] { 0 } else { 255 }]))
}
