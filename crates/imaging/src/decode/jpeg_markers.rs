//! A walk over the JPEG marker structure, without decoding any pixels.
//!
//! It serves two purposes: the frame size is known before a decoder is built, and a truncated
//! upload is caught. The JPEG decoder behind `image` is lenient and paints the missing rows
//! grey instead of failing, which would let a half-uploaded photo reach the check.

use super::header::HeaderDefect;

/// What the marker walk learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// Start-of-frame markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
fn is_sof(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Markers without a length field.
fn is_standalone(marker: u8) -> bool {
    (0xD0..=0xD7).contains(&marker) || marker == 0x01
}

/// Walks SOI … SOF … SOS <entropy data> … EOI and returns the frame size.
/// Fails with `Truncated` when the data ends before EOI.
pub fn scan(bytes: &[u8]) -> Result<JpegInfo, HeaderDefect> {
    if bytes.len() < 4 {
        return Err(HeaderDefect::Truncated);
    }
    if bytes[0] != 0xFF || bytes[1] != SOI {
        return Err(HeaderDefect::Malformed("JPEG without SOI"));
    }
    let mut pos = 2;
    let mut frame: Option<JpegInfo> = None;
    let mut seen_scan = false;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if *bytes.get(pos).ok_or(HeaderDefect::Truncated)? != 0xFF {
            return Err(HeaderDefect::Malformed("expected a marker"));
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or(HeaderDefect::Truncated)?;
        pos += 1;
        if marker == EOI {
            break;
        }
        if is_standalone(marker) {
            continue;
        }
        let length = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(HeaderDefect::Truncated)?;
        if length < 2 {
            return Err(HeaderDefect::Malformed("segment length below 2"));
        }
        let segment = bytes
            .get(pos + 2..pos + length)
            .ok_or(HeaderDefect::Truncated)?;
        if is_sof(marker) {
            if segment.len() < 5 {
                return Err(HeaderDefect::Malformed("short SOF"));
            }
            let height = u32::from(u16::from_be_bytes([segment[1], segment[2]]));
            let width = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
            if width == 0 || height == 0 {
                return Err(HeaderDefect::Malformed("zero frame dimension"));
            }
            frame.get_or_insert(JpegInfo { width, height });
        }
        pos += length;
        if marker == SOS {
            if frame.is_none() {
                return Err(HeaderDefect::Malformed("scan before frame header"));
            }
            seen_scan = true;
            pos = skip_entropy_coded(bytes, pos)?;
        }
    }
    match (frame, seen_scan) {
        (Some(info), true) => Ok(info),
        _ => Err(HeaderDefect::Malformed("no image data")),
    }
}

/// Returns the position of the next real marker after entropy-coded data. Inside the data,
/// 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; anything else ends the scan.
fn skip_entropy_coded(bytes: &[u8], mut pos: usize) -> Result<usize, HeaderDefect> {
    loop {
        let rest = bytes.get(pos..).ok_or(HeaderDefect::Truncated)?;
        let offset = rest
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or(HeaderDefect::Truncated)?;
        pos += offset;
        let next = *bytes.get(pos + 1).ok_or(HeaderDefect::Truncated)?;
        if next == 0x00 || (0xD0..=0xD7).contains(&next) {
            pos += 2;
        } else {
            // A marker, possibly after 0xFF fill bytes, which the caller skips.
            return Ok(pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_jpeg() -> Vec<u8> {
        let img = image::RgbImage::from_pixel(16, 8, image::Rgb([10, 200, 30]));
        let mut out = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        image::ImageEncoder::write_image(enc, img.as_raw(), 16, 8, image::ExtendedColorType::Rgb8)
            .ok();
        out
    }

    #[test]
    fn reads_frame_size_of_a_complete_file() {
        let jpeg = tiny_jpeg();
        assert_eq!(
            scan(&jpeg),
            Ok(JpegInfo {
                width: 16,
                height: 8
            })
        );
    }

    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let jpeg = tiny_jpeg();
        for cut in 0..jpeg.len() - 1 {
            assert!(scan(&jpeg[..cut]).is_err(), "cut at {cut} accepted");
        }
    }

    #[test]
    fn trailing_bytes_after_eoi_are_ignored() {
        let mut jpeg = tiny_jpeg();
        jpeg.extend_from_slice(b"phone vendor trailer");
        assert!(scan(&jpeg).is_ok());
    }
}
