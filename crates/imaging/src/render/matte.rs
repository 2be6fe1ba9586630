//! Backdrop replacement: pixels close to the backdrop colour and connected to the frame's
//! border are backdrop (the head and clothes are islands inside it); the mask's edge is
//! feathered so that hair does not get a cut-out rim.

use image::RgbImage;

use crate::background::model::distance;
use crate::face::geometry::Backdrop;

/// Feather radius in output pixels.
const FEATHER: usize = 2;

pub fn replace_backdrop(
    img: &mut RgbImage,
    outside: &[bool],
    backdrop: &Backdrop,
    colour: [u8; 3],
) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let model = backdrop.colour.map(f32::from);
    let candidate: Vec<bool> = img
        .pixels()
        .zip(outside)
        .map(|(p, &out)| out || distance(&p.0, &model) < backdrop.tolerance)
        .collect();
    // Flood fill from the border through candidates.
    let mut mask = vec![false; w * h];
    let mut stack: Vec<usize> = Vec::new();
    for x in 0..w {
        stack.push(x);
        stack.push((h - 1) * w + x);
    }
    for y in 0..h {
        stack.push(y * w);
        stack.push(y * w + w - 1);
    }
    while let Some(i) = stack.pop() {
        if mask[i] || !candidate[i] {
            continue;
        }
        mask[i] = true;
        let (x, y) = (i % w, i / w);
        if x > 0 {
            stack.push(i - 1);
        }
        if x + 1 < w {
            stack.push(i + 1);
        }
        if y > 0 {
            stack.push(i - w);
        }
        if y + 1 < h {
            stack.push(i + w);
        }
    }
    let alpha = feather(&mask, w, h);
    for (i, p) in img.pixels_mut().enumerate() {
        let a = alpha[i];
        if a <= 0.0 {
            continue;
        }
        for (channel, &target) in p.0.iter_mut().zip(&colour) {
            let v = f32::from(*channel) * (1.0 - a) + f32::from(target) * a;
            *channel = v.round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// Box-blurred mask (separable), so the edge ramps over 2·FEATHER+1 pixels.
fn feather(mask: &[bool], w: usize, h: usize) -> Vec<f32> {
    let src: Vec<f32> = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
    let blur = |data: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0.0f32, 0.0f32);
                for d in -(FEATHER as isize)..=(FEATHER as isize) {
                    let (xx, yy) = if horizontal {
                        (x as isize + d, y as isize)
                    } else {
                        (x as isize, y as isize + d)
                    };
                    if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
                        s += data[yy as usize * w + xx as usize];
                        n += 1.0;
                    }
                }
                out[y * w + x] = s / n;
            }
        }
        out
    };
    let soft = blur(&blur(&src, true), false);
    // Keep the backdrop fully replaced; only the rim is blended.
    soft.iter()
        .zip(mask)
        .map(|(&a, &m)| if m { a.max(0.5) } else { a * 0.8 })
        .collect()
}
