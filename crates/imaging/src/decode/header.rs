//! Format sniffing and header-only dimension reading.
//!
//! Dimensions are read here, from a few bytes of the header, so that a file claiming to be
//! 60000×60000 is refused before any decoder is built or any pixel buffer allocated.

/// The upload formats we accept (DESIGN §6: JPEG, PNG, WebP; HEIC not required).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhotoFormat {
    Jpeg,
    Png,
    WebP,
}

impl PhotoFormat {
    /// The MIME type to store and serve the original under.
    pub fn content_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Png => "image/png",
            PhotoFormat::WebP => "image/webp",
        }
    }

    pub(crate) fn image_format(self) -> image::ImageFormat {
        match self {
            PhotoFormat::Jpeg => image::ImageFormat::Jpeg,
            PhotoFormat::Png => image::ImageFormat::Png,
            PhotoFormat::WebP => image::ImageFormat::WebP,
        }
    }
}

/// Recognises the format from its magic bytes; the file name and the client's MIME type are
/// not trusted.
pub fn sniff(bytes: &[u8]) -> Option<PhotoFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PhotoFormat::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(PhotoFormat::WebP)
    } else {
        None
    }
}

/// What was wrong with a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderDefect {
    /// The file ends before the header (or, for JPEG, before the end-of-image marker).
    Truncated,
    /// A structure that no conforming encoder writes.
    Malformed(&'static str),
}

impl std::fmt::Display for HeaderDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderDefect::Truncated => f.write_str("file is truncated"),
            HeaderDefect::Malformed(what) => write!(f, "malformed header: {what}"),
        }
    }
}

/// Stored (pre-orientation) width and height from the header.
pub fn dimensions(format: PhotoFormat, bytes: &[u8]) -> Result<(u32, u32), HeaderDefect> {
    match format {
        PhotoFormat::Jpeg => super::jpeg_markers::scan(bytes).map(|info| (info.width, info.height)),
        PhotoFormat::Png => png_dimensions(bytes),
        PhotoFormat::WebP => webp_dimensions(bytes),
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le_u24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | (u32::from(b[1]) << 8) | (u32::from(b[2]) << 16))
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(b[0]) | (u32::from(b[1]) << 8))
}

/// PNG: the IHDR chunk must come first (signature, length, "IHDR", width, height).
fn png_dimensions(bytes: &[u8]) -> Result<(u32, u32), HeaderDefect> {
    if bytes.get(12..16).ok_or(HeaderDefect::Truncated)? != b"IHDR" {
        return Err(HeaderDefect::Malformed("PNG does not start with IHDR"));
    }
    let width = be_u32(bytes, 16).ok_or(HeaderDefect::Truncated)?;
    let height = be_u32(bytes, 20).ok_or(HeaderDefect::Truncated)?;
    if width == 0 || height == 0 {
        return Err(HeaderDefect::Malformed("PNG with zero dimension"));
    }
    Ok((width, height))
}

/// WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, canvas size).
fn webp_dimensions(bytes: &[u8]) -> Result<(u32, u32), HeaderDefect> {
    let chunk = bytes.get(12..16).ok_or(HeaderDefect::Truncated)?;
    let (width, height) = match chunk {
        b"VP8X" => {
            let w = le_u24(bytes, 24).ok_or(HeaderDefect::Truncated)? + 1;
            let h = le_u24(bytes, 27).ok_or(HeaderDefect::Truncated)? + 1;
            (w, h)
        }
        b"VP8L" => {
            if bytes.get(20) != Some(&0x2F) {
                return Err(HeaderDefect::Malformed("VP8L signature"));
            }
            let bits = bytes
                .get(21..25)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(HeaderDefect::Truncated)?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        b"VP8 " => {
            if bytes.get(23..26).ok_or(HeaderDefect::Truncated)? != [0x9D, 0x01, 0x2A] {
                return Err(HeaderDefect::Malformed("VP8 start code"));
            }
            let w = le_u16(bytes, 26).ok_or(HeaderDefect::Truncated)? & 0x3FFF;
            let h = le_u16(bytes, 28).ok_or(HeaderDefect::Truncated)? & 0x3FFF;
            (w, h)
        }
        _ => return Err(HeaderDefect::Malformed("unknown WebP chunk")),
    };
    if width == 0 || height == 0 {
        return Err(HeaderDefect::Malformed("WebP with zero dimension"));
    }
    Ok((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_three_formats_and_nothing_else() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(PhotoFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(PhotoFormat::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(PhotoFormat::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"%PDF-1.4"), None);
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(&[]), None);
    }

    #[test]
    fn png_header_is_read_without_decoding() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&60000u32.to_be_bytes());
        png.extend_from_slice(&50000u32.to_be_bytes());
        assert_eq!(dimensions(PhotoFormat::Png, &png), Ok((60000, 50000)));
        assert_eq!(
            dimensions(PhotoFormat::Png, &png[..20]),
            Err(HeaderDefect::Truncated)
        );
    }

    #[test]
    fn short_webp_is_truncated_not_a_panic() {
        assert_eq!(
            dimensions(PhotoFormat::WebP, b"RIFF\0\0\0\0WEBPVP8X"),
            Err(HeaderDefect::Truncated)
        );
    }
}
