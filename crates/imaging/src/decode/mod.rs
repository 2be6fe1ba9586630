//! Accepting an upload: size and format checks, header-first pixel limit, bounded decoding,
//! EXIF orientation. Everything a student can send ends here either as an RGB image or as
//! one `FMT_FILE` error.

mod header;
mod jpeg_markers;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

pub use header::PhotoFormat;

/// Upload limits (DESIGN §6: ≤ 10 MiB, ≤ 40 MP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Largest accepted width × height, checked on the header before decoding.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// A decoded upload, already turned upright.
#[derive(Debug, Clone)]
pub struct DecodedPhoto {
    pub image: RgbImage,
    pub format: PhotoFormat,
    /// MIME type matching `format`, for storing the original.
    pub content_type: &'static str,
    /// Width after EXIF orientation.
    pub width: u32,
    /// Height after EXIF orientation.
    pub height: u32,
}

/// Why an upload was refused. Every kind maps to the one student-facing code `FMT_FILE`; the
/// variants keep the cause for logs and tests.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty upload")]
    Empty,
    #[error("upload of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("not a JPEG, PNG or WebP file")]
    UnknownFormat,
    #[error("{width}×{height} pixels exceeds the limit of {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
}

impl DecodeError {
    /// The catalogue code shown to the student.
    pub fn code(&self) -> &'static str {
        "FMT_FILE"
    }

    /// The catalogue's Chinese message for `code()`.
    pub fn message(&self) -> &'static str {
        campus_photo_domain::reasons::message(self.code())
    }

    /// What the student is told: the cause, in Chinese, and what to upload instead.
    pub fn user_message(&self) -> String {
        const MB: f64 = 1024.0 * 1024.0;
        match self {
            Self::Empty => "文件为空：请重新选择照片".into(),
            Self::TooLarge { size, max } => format!(
                "文件过大：{:.1} MB，上传不能超过 {} MB",
                *size as f64 / MB,
                max / (1024 * 1024)
            ),
            Self::UnknownFormat => "文件格式不支持：请上传 JPG、PNG 或 WebP 格式的图片".into(),
            Self::TooManyPixels { width, height, max } => format!(
                "图片像素过多：{width}×{height}，不能超过 {} 万像素",
                max / 10_000
            ),
            Self::Corrupt(_) => "文件已损坏或不完整（可能上传中断）：请重新上传".into(),
        }
    }
}

/// Worst-case decoder memory per pixel: 16-bit RGBA output (8 bytes) plus the decoders' own
/// planes and the RGB8 copy we make.
const ALLOC_BYTES_PER_PIXEL: u64 = 12;
/// Fixed allowance for decoder tables, metadata and small images.
const ALLOC_SLACK: u64 = 16 * 1024 * 1024;

/// Decodes an upload under `limits` and applies its EXIF orientation.
pub fn decode_upload(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedPhoto, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = header::sniff(bytes).ok_or(DecodeError::UnknownFormat)?;
    let (width, height) =
        header::dimensions(format, bytes).map_err(|d| DecodeError::Corrupt(d.to_string()))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }

    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(width);
    image_limits.max_image_height = Some(height);
    image_limits.max_alloc = Some(pixels * ALLOC_BYTES_PER_PIXEL + ALLOC_SLACK);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    if decoder.dimensions() != (width, height) {
        return Err(DecodeError::Corrupt(
            "header and decoder disagree on the size".into(),
        ));
    }
    // A broken EXIF block only loses the rotation; it is not a reason to refuse the photo.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let mut upright = DynamicImage::ImageRgb8(flatten_to_rgb(decoded));
    upright.apply_orientation(orientation);
    let image = upright.into_rgb8();
    let (width, height) = image.dimensions();
    Ok(DecodedPhoto {
        image,
        format,
        content_type: format.content_type(),
        width,
        height,
    })
}

fn corrupt(err: image::ImageError) -> DecodeError {
    DecodeError::Corrupt(err.to_string())
}

/// RGB8 with any transparency composited over white: a cut-out PNG should look like a photo
/// on a light background, not on black.
fn flatten_to_rgb(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let over = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([over(p[0]), over(p[1]), over(p[2])])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ExtendedColorType, ImageEncoder};

    fn png_of(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                img.as_raw(),
                img.width(),
                img.height(),
                ExtendedColorType::Rgb8,
            )
            .ok();
        out
    }

    #[test]
    fn refuses_empty_oversized_and_unknown() {
        let limits = DecodeLimits::default();
        assert!(matches!(
            decode_upload(&[], &limits),
            Err(DecodeError::Empty)
        ));
        let small = DecodeLimits {
            max_bytes: 4,
            ..limits
        };
        assert!(matches!(
            decode_upload(b"12345", &small),
            Err(DecodeError::TooLarge { .. })
        ));
        let err = decode_upload(b"GIF89a......", &limits).err();
        assert!(matches!(err, Some(DecodeError::UnknownFormat)));
        assert_eq!(err.map(|e| e.code()), Some("FMT_FILE"));
    }

    #[test]
    fn each_cause_is_named_for_the_student() {
        let causes = [
            (DecodeError::Empty, "为空"),
            (
                DecodeError::TooLarge {
                    size: 12 * 1024 * 1024,
                    max: 10 * 1024 * 1024,
                },
                "过大",
            ),
            (DecodeError::UnknownFormat, "JPG、PNG 或 WebP"),
            (
                DecodeError::TooManyPixels {
                    width: 9000,
                    height: 9000,
                    max: 40_000_000,
                },
                "像素过多",
            ),
            (DecodeError::Corrupt("eof".into()), "不完整"),
        ];
        for (error, words) in causes {
            assert!(
                error.user_message().contains(words),
                "{error}: {}",
                error.user_message()
            );
        }
    }

    #[test]
    fn messages_come_from_the_catalogue() {
        let expected = campus_photo_domain::reasons::find("FMT_FILE").map(|r| r.message);
        assert_eq!(Some(DecodeError::Empty.message()), expected);
    }

    #[test]
    fn pixel_limit_is_checked_on_the_header() {
        let img = RgbImage::from_pixel(100, 100, image::Rgb([1, 2, 3]));
        let limits = DecodeLimits {
            max_pixels: 9_999,
            ..DecodeLimits::default()
        };
        let err = decode_upload(&png_of(&img), &limits).err();
        assert!(matches!(
            err,
            Some(DecodeError::TooManyPixels {
                width: 100,
                height: 100,
                ..
            })
        ));
        assert!(decode_upload(&png_of(&img), &DecodeLimits::default()).is_ok());
    }

    #[test]
    fn truncated_png_is_corrupt() {
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 3, y as u8 * 3, 7]));
        let png = png_of(&img);
        let err = decode_upload(&png[..png.len() / 2], &DecodeLimits::default()).err();
        assert!(matches!(err, Some(DecodeError::Corrupt(_))));
    }

    #[test]
    fn transparency_becomes_white() {
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 0]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), 4, 4, ExtendedColorType::Rgba8)
            .ok();
        let photo = decode_upload(&out, &DecodeLimits::default()).ok();
        assert_eq!(
            photo.map(|p| p.image.get_pixel(1, 1).0),
            Some([255, 255, 255])
        );
    }
}
