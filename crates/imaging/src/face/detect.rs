//! Face boxes from rustface's SeetaFace frontal cascade.
//!
//! The model is compiled in and parsed once; a detector is built per call because
//! `Box<dyn Detector>` is not `Send` and the check runs on whichever blocking thread is free.
//! Detection runs on a small copy of the photo: the cascade's cost grows with the number of
//! windows that look face-like, which for an ID photo (one big face) is large at full size, and
//! its 40-pixel window means a face covering a fifth of the frame is still found at 200 pixels.

use std::sync::OnceLock;

use image::{GrayImage, RgbImage};
use rustface::{ImageData, Model};

use crate::background::model::BackdropModel;

static MODEL_BYTES: &[u8] = include_bytes!("../../model/seeta_fd_frontal_v1.0.bin");
static MODEL: OnceLock<Model> = OnceLock::new();

fn model() -> &'static Model {
    MODEL.get_or_init(|| {
        // The bytes are part of the build, not input: a failure here is a broken build, and
        // `model_parses` below catches it in CI.
        rustface::read_model(std::io::Cursor::new(MODEL_BYTES))
            .expect("the vendored SeetaFace model parses")
    })
}

/// A detected face box in working-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub x: f64,
    pub y: f64,
    pub size: f64,
    /// The cascade's confidence (sum of merged window scores).
    pub score: f64,
}

impl FaceBox {}

/// Shorter side of the first pass: a face box of a quarter of the frame is 35 px there, just
/// inside the cascade's 40-px window after its first pyramid step; ID-photo faces are larger,
/// so the first pass is cheap and finds the main face.
const FIRST_PASS: u32 = 140;
/// Largest shorter side of the second pass (used in full when pass 1 found nothing; otherwise
/// lowered to what the main face's size requires, see `detect_on`), which looks for smaller
/// faces (a second person; or a subject standing too far away, who should hear "move closer",
/// not "no face"). Faces found in the first pass are painted flat first so the cascade does not
/// spend its time on them, and once a main face is known the pass scans only the places where
/// a second one could be (`candidate_regions`).
const SECOND_PASS: u32 = 360;
/// The cascade's own floor; our decision threshold lives in `thresholds.rs`.
const CASCADE_FLOOR: f64 = 2.0;
/// Margin around a found face that is painted flat for the second pass (fraction of its size).
const MASK_MARGIN: f64 = 0.3;
/// The smallest second face that counts, as a share of the main one (`SECONDARY_FACE_MIN` in
/// `face/mod.rs`), and the slack allowed for the cascade reporting it a little small.
const SECONDARY_MIN_SHARE: f64 = super::SECONDARY_FACE_MIN;
const SECONDARY_SIZE_MARGIN: f64 = 0.7;

/// Detects faces, largest first. Boxes below `min_score` are dropped. When the luma plane
/// shows no face, tone-recovered planes are tried: a burnt-out face keeps its structure in
/// the darkest channel, a dark one in the brightest.
pub fn detect_faces(luma: &GrayImage, rgb: &RgbImage, min_score: f64) -> Vec<FaceBox> {
    let faces = detect_on(luma, rgb, min_score);
    if !faces.is_empty() {
        return faces;
    }
    for recover in [Recovery::Highlights, Recovery::Shadows] {
        let faces = detect_on(&recovered(rgb, recover), rgb, min_score);
        if !faces.is_empty() {
            return faces;
        }
    }
    Vec::new()
}

#[derive(Clone, Copy)]
enum Recovery {
    Highlights,
    Shadows,
}

/// min(R,G,B) with gamma 2 spreads near-white tones; max(R,G,B) with gamma ½ spreads
/// near-black ones.
fn recovered(rgb: &RgbImage, recover: Recovery) -> GrayImage {
    let mut lut = [0u8; 256];
    for (i, v) in lut.iter_mut().enumerate() {
        let x = i as f64 / 255.0;
        let y = match recover {
            Recovery::Highlights => x * x,
            Recovery::Shadows => x.sqrt(),
        };
        *v = (y * 255.0).round() as u8;
    }
    GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        let v = match recover {
            Recovery::Highlights => r.min(g).min(b),
            Recovery::Shadows => r.max(g).max(b),
        };
        image::Luma([lut[usize::from(v)]])
    })
}

fn detect_on(luma: &GrayImage, rgb: &RgbImage, min_score: f64) -> Vec<FaceBox> {
    if luma.width().min(luma.height()) < 40 {
        return Vec::new();
    }
    let short = f64::from(luma.width().min(luma.height()));
    // Pass 1 on a small copy finds the main face (and any face of similar size).
    let first = shrunk(luma, FIRST_PASS);
    let k1 = f64::from(luma.width()) / f64::from(first.width());
    let mut faces: Vec<FaceBox> = detect_at(&first, FIRST_PASS, min_score, &[])
        .into_iter()
        .map(|f| scaled(f, k1, (0.0, 0.0)))
        .collect();
    // Pass 2 only has to find what can still count: faces at least a third of the main face
    // (smaller ones are dropped in `locate`), with a margin for the cascade's box sizes. Its
    // cost grows with the square of its resolution and with the area it scans, so it runs at
    // the resolution that puts those faces at the cascade's 40-pixel window, and only over
    // the places where such a face could be (see `candidate_regions`); at full SECOND_PASS
    // over the whole photo only when pass 1 found nothing.
    let base_short = short.min(f64::from(SECOND_PASS));
    let (second, regions) = match faces.first() {
        Some(main) => {
            let smallest = main.size * SECONDARY_MIN_SHARE * SECONDARY_SIZE_MARGIN;
            let side = (40.0 * short / smallest.max(1.0)).ceil();
            let side = side.clamp(f64::from(FIRST_PASS).min(base_short), base_short);
            // Pass 1 saw every face of at least 40 of its pixels (with a margin).
            let largest = 1.5 * 40.0 * k1;
            (
                side,
                candidate_regions(rgb, &faces, main, smallest, largest),
            )
        }
        None => (base_short, None),
    };
    let whole = [(0u32, 0u32, luma.width(), luma.height())];
    let regions = regions.as_deref().unwrap_or(&whole);
    let scale = second / short;
    let mut more = Vec::new();
    for &(x0, y0, x1, y1) in regions {
        let (rw, rh) = (x1 - x0, y1 - y0);
        let (w, h) = (
            (f64::from(rw) * scale).round() as u32,
            (f64::from(rh) * scale).round() as u32,
        );
        if w < 40 || h < 40 {
            continue;
        }
        let crop = if (x0, y0, rw, rh) == (0, 0, luma.width(), luma.height()) {
            area_resize(luma, w, h)
        } else {
            area_resize(
                &image::imageops::crop_imm(luma, x0, y0, rw, rh).to_image(),
                w,
                h,
            )
        };
        let kx = f64::from(rw) / f64::from(w);
        let origin = (f64::from(x0), f64::from(y0));
        let known: Vec<FaceBox> = faces
            .iter()
            .map(|f| FaceBox {
                x: (f.x - origin.0) / kx,
                y: (f.y - origin.1) / kx,
                size: f.size / kx,
                score: f.score,
            })
            .collect();
        more.extend(
            detect_at(&crop, w.min(h), min_score, &known)
                .into_iter()
                .map(|f| scaled(f, kx, origin)),
        );
    }
    for face in more {
        let inside_known = faces.iter().any(|k| {
            let m = k.size * MASK_MARGIN;
            let (cx, cy) = (face.x + face.size / 2.0, face.y + face.size / 2.0);
            cx > k.x - m && cx < k.x + k.size + m && cy > k.y - m && cy < k.y + k.size + m
        });
        if !inside_known {
            faces.push(face);
        }
    }
    faces.sort_by(|a, b| b.size.total_cmp(&a.size));
    faces
}

/// A box found on a copy scaled by 1/`k` whose (0, 0) is `origin` in working pixels.
fn scaled(f: FaceBox, k: f64, origin: (f64, f64)) -> FaceBox {
    FaceBox {
        x: origin.0 + f.x * k,
        y: origin.1 + f.y * k,
        size: f.size * k,
        score: f.score,
    }
}

/// Chroma of skin under ordinary light (Chai & Ngan, "Face segmentation using skin-color map
/// in videophone applications", 1999): Cb 77–127, Cr 133–173 in 8-bit YCbCr. It holds across
/// skin tones, which differ mainly in luma.
fn is_skin([r, g, b]: [f32; 3]) -> bool {
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let cb = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
    let cr = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
    y >= 40.0 && (77.0..=127.0).contains(&cb) && (133.0..=173.0).contains(&cr)
}

/// RGB distance from the backdrop colour under which a skin-coloured cell is taken for the
/// backdrop (a third of the backdrop model's smallest tolerance: a face in front of the
/// backdrop differs from it by far more).
const SAME_AS_BACKDROP: f32 = 12.0;
/// The eye line's height in a detection box, as a share of its size (where the backdrop
/// model stops sampling the sides).
const EYE_LINE_IN_BOX: f64 = 0.45;
/// Share of the main face's box (its centre, each way) whose cells must be mostly skin-coloured
/// for skin chroma to be trusted on this photo.
const SKIN_CHECK_SHARE: f64 = 0.5;

/// Where a second face could be: a face shows skin, so pass 2 only scans boxes around the
/// skin-coloured cells outside the faces already found, each box grown so that any face from
/// `smallest` to `largest` (working pixels) whose skin lies in it fits inside. Returns `None`
/// (scan everything) when skin chroma does not describe this photo: the main face's own
/// centre is not mostly skin-coloured (a grey or tinted photo, coloured light).
fn candidate_regions(
    rgb: &RgbImage,
    faces: &[FaceBox],
    main: &FaceBox,
    smallest: f64,
    largest: f64,
) -> Option<Vec<(u32, u32, u32, u32)>> {
    let (w, h) = rgb.dimensions();
    // Cells a quarter of the smallest face: its cheeks and forehead fill several.
    let cell = (smallest / 4.0).floor().max(2.0) as u32;
    let (cw, ch) = (w.div_ceil(cell), h.div_ceil(cell));
    let mean = |cx: u32, cy: u32| {
        // Mean of four points inside the cell (a cheap, noise-tolerant sample).
        let mut acc = [0f32; 3];
        for (fx, fy) in [(1, 1), (3, 1), (1, 3), (3, 3)] {
            let x = (cx * cell + cell * fx / 4).min(w - 1);
            let y = (cy * cell + cell * fy / 4).min(h - 1);
            let p = rgb.get_pixel(x, y).0;
            for (a, v) in acc.iter_mut().zip(p) {
                *a += f32::from(v) / 4.0;
            }
        }
        acc
    };
    let mut means = vec![[0f32; 3]; (cw * ch) as usize];
    for cy in 0..ch {
        for cx in 0..cw {
            means[(cy * cw + cx) as usize] = mean(cx, cy);
        }
    }
    let skin: Vec<bool> = means.iter().map(|&m| is_skin(m)).collect();
    let centre = |x: f64, y: f64| {
        let c = main.size * (1.0 - SKIN_CHECK_SHARE) / 2.0;
        x >= main.x + c
            && x <= main.x + main.size - c
            && y >= main.y + c
            && y <= main.y + main.size - c
    };
    let (mut inside, mut skin_inside) = (0usize, 0usize);
    for cy in 0..ch {
        for cx in 0..cw {
            let (x, y) = (
                f64::from(cx * cell + cell / 2),
                f64::from(cy * cell + cell / 2),
            );
            if centre(x, y) {
                inside += 1;
                skin_inside += usize::from(skin[(cy * cw + cx) as usize]);
            }
        }
    }
    if inside == 0 || skin_inside * 2 < inside {
        return None;
    }
    // Skin cells the painted masks of known faces do not cover.
    let masked = |x: f64, y: f64| {
        faces.iter().any(|k| {
            let m = k.size * MASK_MARGIN;
            x > k.x - m && x < k.x + k.size + m && y > k.y - m && y < k.y + k.size + m
        })
    };
    let centre_of = |cx: u32, cy: u32| {
        (
            f64::from(cx * cell + cell / 2),
            f64::from(cy * cell + cell / 2),
        )
    };
    // A skin-coloured backdrop (cream, beige, wood) is not a face: cells that match the
    // backdrop's colour closely (within JPEG noise and gentle shading) start no scan.
    let backdrop = BackdropModel::learn(rgb, main.y + EYE_LINE_IN_BOX * main.size);
    let mut free = vec![false; skin.len()];
    for cy in 0..ch {
        for cx in 0..cw {
            let (x, y) = centre_of(cx, cy);
            let i = (cy * cw + cx) as usize;
            free[i] =
                skin[i] && !masked(x, y) && backdrop.distance_f(&means[i]) >= SAME_AS_BACKDROP;
        }
    }
    // The smallest face that counts spans about 4×4 cells, its skin several of them; a lone
    // skin-coloured cell (the edge of a neck, a knuckle, wood) cannot be one. Shadows and
    // beards may break a face's skin up, so two cells among a 3×3 neighbourhood suffice.
    let company = |cx: u32, cy: u32| {
        let mut n = 0;
        for ny in cy.saturating_sub(1)..(cy + 2).min(ch) {
            for nx in cx.saturating_sub(1)..(cx + 2).min(cw) {
                n += usize::from(free[(ny * cw + nx) as usize]);
            }
        }
        n
    };
    let pad = (0.5 * largest).ceil() as i64;
    let mut boxes: Vec<(i64, i64, i64, i64)> = Vec::new();
    for cy in 0..ch {
        for cx in 0..cw {
            if !free[(cy * cw + cx) as usize] || company(cx, cy) < 2 {
                continue;
            }
            let (x0, y0) = (i64::from(cx * cell), i64::from(cy * cell));
            boxes.push((
                x0 - pad,
                y0 - pad,
                x0 + i64::from(cell) + pad,
                y0 + i64::from(cell) + pad,
            ));
        }
    }
    // Merge overlapping boxes so that no part of the photo is scanned twice.
    let mut merged: Vec<(i64, i64, i64, i64)> = Vec::new();
    for b in boxes {
        let mut cur = b;
        loop {
            let before = merged.len();
            merged.retain(|m| {
                let overlap = m.0 < cur.2 && cur.0 < m.2 && m.1 < cur.3 && cur.1 < m.3;
                if overlap {
                    cur = (
                        cur.0.min(m.0),
                        cur.1.min(m.1),
                        cur.2.max(m.2),
                        cur.3.max(m.3),
                    );
                }
                !overlap
            });
            if merged.len() == before {
                break;
            }
        }
        merged.push(cur);
    }
    let (wi, hi) = (i64::from(w), i64::from(h));
    Some(
        merged
            .into_iter()
            .map(|(x0, y0, x1, y1)| {
                (
                    x0.clamp(0, wi) as u32,
                    y0.clamp(0, hi) as u32,
                    x1.clamp(0, wi) as u32,
                    y1.clamp(0, hi) as u32,
                )
            })
            .filter(|(x0, y0, x1, y1)| x1 > x0 && y1 > y0)
            .collect(),
    )
}

/// `luma` with its shorter side brought down to `short_side` (unchanged if already there).
fn shrunk(luma: &GrayImage, short_side: u32) -> GrayImage {
    let short = luma.width().min(luma.height());
    let target = short_side.min(short);
    let scale = f64::from(target) / f64::from(short);
    let w = ((f64::from(luma.width()) * scale).round() as u32).max(40);
    let h = ((f64::from(luma.height()) * scale).round() as u32).max(40);
    if (w, h) == luma.dimensions() {
        luma.clone()
    } else {
        area_resize(luma, w, h)
    }
}

/// Source pixels (index, weight) that make up each of `n_out` output pixels when `n_in`
/// pixels are averaged down (or, for `n_out > n_in`, sampled up) by exact area coverage.
fn area_taps(n_in: u32, n_out: u32) -> Vec<Vec<(usize, f32)>> {
    let ratio = f64::from(n_in) / f64::from(n_out);
    (0..n_out)
        .map(|o| {
            let a = f64::from(o) * ratio;
            let b = (a + ratio).min(f64::from(n_in));
            let mut taps = Vec::new();
            let mut i = a.floor();
            while i < b {
                let cover = (i + 1.0).min(b) - i.max(a);
                if cover > 1e-9 {
                    taps.push((i as usize, (cover / ratio.max(1.0)) as f32));
                }
                i += 1.0;
            }
            if ratio < 1.0 {
                // Upsampling: each output pixel takes the source pixel under it.
                taps = vec![((a.floor() as usize).min(n_in as usize - 1), 1.0)];
            }
            taps
        })
        .collect()
}

/// Area-averaging resize: each output pixel is the mean of the source area it covers. A
/// plain box filter, cheap (every source pixel is read once or twice, rows first so that
/// the inner loop is a straight multiply-add) and free of aliasing.
fn area_resize(luma: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (iw, ih) = luma.dimensions();
    let cols = area_taps(iw, w);
    let rows = area_taps(ih, h);
    let src = luma.as_raw();
    let mut out = vec![0u8; w as usize * h as usize];
    let mut acc = vec![0f32; iw as usize];
    for (o, taps) in out.chunks_exact_mut(w as usize).zip(&rows) {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for &(y, wy) in taps {
            let Some(row) = src.get(y * iw as usize..(y + 1) * iw as usize) else {
                continue;
            };
            for (a, &p) in acc.iter_mut().zip(row) {
                *a += f32::from(p) * wy;
            }
        }
        for (p, col) in o.iter_mut().zip(&cols) {
            let v: f32 = col
                .iter()
                .map(|&(x, wx)| acc.get(x).map_or(0.0, |a| a * wx))
                .sum();
            *p = (v + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

fn detect_at(luma: &GrayImage, short_side: u32, min_score: f64, known: &[FaceBox]) -> Vec<FaceBox> {
    let short = luma.width().min(luma.height());
    if short < 40 {
        return Vec::new();
    }
    let mut small = shrunk(luma, short_side);
    let (w, h) = small.dimensions();
    let sx = f64::from(luma.width()) / f64::from(w);
    for k in known {
        paint_flat(&mut small, k, 1.0 / sx);
    }
    stretch_contrast(&mut small);
    let mut detector = rustface::create_detector_with_model(model().clone());
    detector.set_score_thresh(CASCADE_FLOOR);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let mut faces: Vec<FaceBox> = detector
        .detect(&ImageData::new(small.as_raw(), w, h))
        .into_iter()
        .filter(|f| f.score() >= min_score)
        .map(|f| {
            let b = f.bbox();
            FaceBox {
                x: f64::from(b.x()) * sx,
                y: f64::from(b.y()) * sx,
                size: f64::from(b.width()) * sx,
                score: f.score(),
            }
        })
        .collect();
    faces.sort_by(|a, b| b.size.total_cmp(&a.size));
    faces
}

/// Fills a found face (with a margin) with its mean grey, leaving nothing for the cascade.
fn paint_flat(img: &mut GrayImage, face: &FaceBox, scale: f64) {
    let m = face.size * MASK_MARGIN;
    let x0 = ((face.x - m) * scale).max(0.0) as u32;
    let y0 = ((face.y - m) * scale).max(0.0) as u32;
    let x1 = (((face.x + face.size + m) * scale).max(0.0) as u32).min(img.width());
    let y1 = (((face.y + face.size + m) * scale).max(0.0) as u32).min(img.height());
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(img.get_pixel(x, y).0[0]);
        }
    }
    let mean = (sum / (u64::from(x1 - x0) * u64::from(y1 - y0))) as u8;
    for y in y0..y1 {
        for x in x0..x1 {
            img.put_pixel(x, y, image::Luma([mean]));
        }
    }
}

/// Stretches the 1st–99th percentile to the full range: a washed-out or dim photo still has
/// the face's structure, and the cascade's features were trained on normal contrast.
fn stretch_contrast(img: &mut GrayImage) {
    let mut hist = [0u32; 256];
    for p in img.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u32 = hist.iter().sum();
    let percentile = |q: f64| {
        let target = (f64::from(total) * q) as u32;
        let mut acc = 0;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc > target {
                return i as f32;
            }
        }
        255.0
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi - lo < 8.0 || (lo <= 2.0 && hi >= 253.0) {
        return;
    }
    for p in img.pixels_mut() {
        let v = (f32::from(p.0[0]) - lo) * 255.0 / (hi - lo);
        p.0[0] = v.clamp(0.0, 255.0) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_parses() {
        assert!(model().get_hierarchy_count() > 0);
    }

    #[test]
    fn blank_image_has_no_face() {
        let img = GrayImage::from_pixel(300, 400, image::Luma([180]));
        let rgb = RgbImage::from_pixel(300, 400, image::Rgb([180, 180, 180]));
        assert!(detect_faces(&img, &rgb, 2.0).is_empty());
        let tiny = GrayImage::from_pixel(10, 10, image::Luma([180]));
        let tiny_rgb = RgbImage::from_pixel(10, 10, image::Rgb([180, 180, 180]));
        assert!(detect_faces(&tiny, &tiny_rgb, 2.0).is_empty());
    }
}
