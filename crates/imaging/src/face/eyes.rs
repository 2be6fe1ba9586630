//! Eye centres without a landmark model: gradient-based localisation after Timm & Barth,
//! "Accurate eye centre localisation by means of gradients" (VISAPP 2011).
//!
//! The iris is a dark disc: image gradients on its rim all point away from its centre, so the
//! centre is the point whose displacement vectors best agree with the gradient directions
//! around it, weighted by how dark the point is. Eyebrows and hair give elongated, not
//! circular, gradient patterns and score lower; maxima touching the search window's border are
//! discarded as the paper suggests.

use image::GrayImage;

use super::detect::FaceBox;
use super::sample::{Frame, Plane};

/// Box-relative search windows (x0, x1, y0, y1) for the image-left and image-right eye.
/// Generous vertically so that a head rolled by 20° still has both eyes inside.
const LEFT_WINDOW: (f64, f64, f64, f64) = (0.06, 0.50, 0.10, 0.60);
const RIGHT_WINDOW: (f64, f64, f64, f64) = (0.50, 0.94, 0.10, 0.60);
/// The face box is resampled to this many pixels across for the search.
const SEARCH_SCALE: f64 = 100.0;

/// Eye centres in working-image pixels: (image-left eye, image-right eye).
pub fn locate_eyes(luma: &GrayImage, face: &FaceBox) -> ((f64, f64), (f64, f64)) {
    (
        locate_in(luma, face, LEFT_WINDOW),
        locate_in(luma, face, RIGHT_WINDOW),
    )
}

fn locate_in(luma: &GrayImage, face: &FaceBox, window: (f64, f64, f64, f64)) -> (f64, f64) {
    let step = face.size / SEARCH_SCALE;
    let (x0, x1, y0, y1) = window;
    let frame = Frame {
        origin: (face.x + x0 * face.size, face.y + y0 * face.size),
        step,
        angle: 0.0,
    };
    let w = ((x1 - x0) * SEARCH_SCALE).round() as usize;
    let h = ((y1 - y0) * SEARCH_SCALE).round() as usize;
    let plane = frame.sample(luma, w, h).smoothed();
    let (u, v) = timm_barth(&plane);
    frame.to_image(u, v)
}

/// Returns the centre estimate in plane coordinates.
pub fn timm_barth(plane: &Plane) -> (f64, f64) {
    let (w, h) = (plane.width, plane.height);
    if w < 5 || h < 5 {
        return (w as f64 / 2.0, h as f64 / 2.0);
    }
    // Gradients (central differences) and the paper's dynamic threshold: mean + 0.3·std.
    let mut grads: Vec<(f32, f32, f32, f32)> = Vec::new(); // x, y, gx, gy (unit)
    let mut mags = Vec::with_capacity(w * h);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let gx = (plane.at(x + 1, y) - plane.at(x - 1, y)) / 2.0;
            let gy = (plane.at(x, y + 1) - plane.at(x, y - 1)) / 2.0;
            mags.push((x, y, gx, gy, (gx * gx + gy * gy).sqrt()));
        }
    }
    let n = mags.len() as f32;
    let mean = mags.iter().map(|m| m.4).sum::<f32>() / n;
    let var = mags.iter().map(|m| (m.4 - mean).powi(2)).sum::<f32>() / n;
    let threshold = mean + 0.3 * var.sqrt();
    for &(x, y, gx, gy, mag) in &mags {
        if mag > threshold && mag > 1e-3 {
            grads.push((x as f32, y as f32, gx / mag, gy / mag));
        }
    }
    if grads.is_empty() {
        return (w as f64 / 2.0, h as f64 / 2.0);
    }
    // Darkness prior from a more strongly smoothed copy.
    let weight = plane.smoothed().smoothed();
    let mut objective = Plane::new(w, h);
    let mut best = 0.0f32;
    // Centres are evaluated LANES at a time against each gradient (independent lanes the
    // compiler turns into vector code); every centre still sums its gradients in order.
    const LANES: usize = 16;
    for cy in 0..h {
        let fy = cy as f32;
        for cx0 in (0..w).step_by(LANES) {
            let mut fx = [0f32; LANES];
            for (l, f) in fx.iter_mut().enumerate() {
                *f = (cx0 + l) as f32;
            }
            let mut acc = [0f32; LANES];
            for &(x, y, gx, gy) in &grads {
                let dy = y - fy;
                for l in 0..LANES {
                    let dx = x - fx[l];
                    let d2 = dx * dx + dy * dy;
                    let dot = (dx * gx + dy * gy) / d2.sqrt();
                    // `d2 < 1e-6` skips the gradient at the centre itself.
                    acc[l] += if d2 >= 1e-6 && dot > 0.0 {
                        dot * dot
                    } else {
                        0.0
                    };
                }
            }
            for (l, a) in acc.iter().enumerate() {
                let cx = cx0 + l;
                if cx >= w {
                    break;
                }
                let value = a * (255.0 - weight.at(cx, cy)).max(0.0);
                objective.set(cx, cy, value);
                best = best.max(value);
            }
        }
    }
    suppress_border_maxima(&mut objective, best * 0.97);
    subpixel_argmax(&objective)
}

/// Removes every region above `level` that touches the border (eyebrows, hair, glasses rims
/// leaving the window), unless that would remove everything.
fn suppress_border_maxima(objective: &mut Plane, level: f32) {
    let (w, h) = (objective.width, objective.height);
    let mut flooded = vec![false; w * h];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for x in 0..w {
        stack.push((x, 0));
        stack.push((x, h - 1));
    }
    for y in 0..h {
        stack.push((0, y));
        stack.push((w - 1, y));
    }
    while let Some((x, y)) = stack.pop() {
        let i = y * w + x;
        if flooded[i] || objective.data[i] < level {
            continue;
        }
        flooded[i] = true;
        if x > 0 {
            stack.push((x - 1, y));
        }
        if x + 1 < w {
            stack.push((x + 1, y));
        }
        if y > 0 {
            stack.push((x, y - 1));
        }
        if y + 1 < h {
            stack.push((x, y + 1));
        }
    }
    let interior_left = objective.data.iter().zip(&flooded).any(|(_, f)| !f);
    if interior_left {
        for (v, f) in objective.data.iter_mut().zip(flooded) {
            if f {
                *v = 0.0;
            }
        }
    }
}

/// The maximum, refined by the centroid of its 3×3 neighbourhood.
fn subpixel_argmax(plane: &Plane) -> (f64, f64) {
    let mut best = (0usize, 0usize, f32::MIN);
    for y in 0..plane.height {
        for x in 0..plane.width {
            let v = plane.at(x, y);
            if v > best.2 {
                best = (x, y, v);
            }
        }
    }
    let (bx, by, bv) = best;
    let (mut sx, mut sy, mut sw) = (0.0f64, 0.0f64, 0.0f64);
    for dy in -1isize..=1 {
        for dx in -1isize..=1 {
            let (x, y) = (bx as isize + dx, by as isize + dy);
            if x < 0 || y < 0 || x >= plane.width as isize || y >= plane.height as isize {
                continue;
            }
            // Weight by how close to the peak, so flat neighbours do not drag the centre.
            let v = f64::from(plane.at(x as usize, y as usize));
            let wgt = (v - 0.9 * f64::from(bv)).max(0.0);
            sx += wgt * x as f64;
            sy += wgt * y as f64;
            sw += wgt;
        }
    }
    if sw > 0.0 {
        (sx / sw, sy / sw)
    } else {
        (bx as f64, by as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_centre_of_a_dark_disc() {
        let mut plane = Plane::new(40, 30);
        for y in 0..30 {
            for x in 0..40 {
                let d = ((x as f32 - 23.0).powi(2) + (y as f32 - 12.0).powi(2)).sqrt();
                plane.set(x, y, if d < 5.0 { 30.0 } else { 200.0 });
            }
        }
        let (x, y) = timm_barth(&plane.smoothed());
        assert!((x - 23.0).abs() < 1.0 && (y - 12.0).abs() < 1.0, "{x} {y}");
    }
}
