//! Fitting one finder pattern on the grey image: its centre and the two
//! one-module vectors of the symbol grid there (a local affine model).
//!
//! Run-length estimates from a blurred, downscaled bitmap are off by 10–20%,
//! which is several modules over a symbol; matching the 9×9-module finder
//! template (finder plus separator) on the grey image gives the local pitch
//! to about 1%, and the local pitches at two finders give the module count
//! between them exactly, even under perspective (see `modules_between`).

use super::grey::Grey;
use super::homography::Pt;

/// A fitted finder: centre, one-module vectors along the symbol's x and y,
/// and the template correlation reached.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FinderFit {
    pub c: Pt,
    pub ux: Pt,
    pub uy: Pt,
    pub score: f32,
}

/// Template: +1 dark / −1 light at integer module offsets from the centre.
fn expected(i: i32, j: i32) -> f32 {
    match i.abs().max(j.abs()) {
        0 | 1 | 3 => 1.0,
        _ => -1.0,
    }
}

/// Sub-sample offsets within a module, to smooth the score surface.
const SUB: [(f64, f64); 5] = [(0.0, 0.0), (-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)];

fn score(g: &Grey, c: Pt, ux: Pt, uy: Pt) -> f32 {
    let (mut sum, mut sum_sq, mut cross, mut sign_sum, mut n) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for j in -4..=4 {
        for i in -4..=4 {
            let e = expected(i, j);
            for (si, sj) in SUB {
                let (a, b) = (i as f64 + si, j as f64 + sj);
                let x = c.0 + a * ux.0 + b * uy.0;
                let y = c.1 + a * ux.1 + b * uy.1;
                let v = g.sample(x as f32, y as f32);
                sum += v;
                sum_sq += v * v;
                // Dark is low grey, so darkness is −v.
                cross -= e * v;
                sign_sum += e;
                n += 1.0;
            }
        }
    }
    let mean = sum / n;
    let var = (sum_sq / n - mean * mean).max(1e-3);
    (cross + mean * sign_sum) / (n * var.sqrt())
}

/// Fit from a starting centre and module vectors (directions from the
/// symbol geometry, length from a rough pitch estimate).
pub(crate) fn fit(g: &Grey, c: Pt, ux: Pt, uy: Pt) -> FinderFit {
    let scaled = |k: f64| ((ux.0 * k, ux.1 * k), (uy.0 * k, uy.1 * k));
    // 1. Isotropic scale, the least reliable part of the start.
    let mut best = FinderFit {
        c,
        ux,
        uy,
        score: f32::MIN,
    };
    let mut k = 0.6;
    while k <= 1.7 {
        let (a, b) = scaled(k);
        let s = score(g, c, a, b);
        if s > best.score {
            best = FinderFit {
                c,
                ux: a,
                uy: b,
                score: s,
            };
        }
        k *= 1.04;
    }
    // 2. Coordinate descent over centre and both vectors.
    let len = best.ux.0.hypot(best.ux.1).max(0.5);
    let (mut pos_step, mut vec_step) = (len * 0.5, len * 0.1);
    for _ in 0..6 {
        for _ in 0..3 {
            let mut improved = false;
            for p in 0..6 {
                for dir in [1.0, -1.0] {
                    let mut t = best;
                    match p {
                        0 => t.c.0 += dir * pos_step,
                        1 => t.c.1 += dir * pos_step,
                        2 => t.ux.0 += dir * vec_step,
                        3 => t.ux.1 += dir * vec_step,
                        4 => t.uy.0 += dir * vec_step,
                        _ => t.uy.1 += dir * vec_step,
                    }
                    let s = score(g, t.c, t.ux, t.uy);
                    if s > best.score {
                        best = FinderFit { score: s, ..t };
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
        pos_step *= 0.5;
        vec_step *= 0.5;
    }
    best
}

/// Modules between two finder centres on one symbol edge, from their
/// distance and the local pitches along the edge at both ends. For a
/// projective map of a line the pitch varies so that the count is exactly
/// distance / √(pitch₁·pitch₂).
pub(crate) fn modules_between(a: Pt, b: Pt, pitch_a: f64, pitch_b: f64) -> f64 {
    (b.0 - a.0).hypot(b.1 - a.1) / (pitch_a * pitch_b).max(1e-9).sqrt()
}

/// Length of a vector.
pub(crate) fn norm(v: Pt) -> f64 {
    v.0.hypot(v.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_mean_counts_modules_under_perspective() {
        // x(u) = a·u / (1 + c·u): pitch a at u=0, a/(1+cN)² at u=N.
        let (a, c, n) = (5.0f64, 0.004f64, 80.0f64);
        let end = a * n / (1.0 + c * n);
        let pitch_end = a / (1.0 + c * n).powi(2);
        let got = modules_between((0.0, 0.0), (end, 0.0), a, pitch_end);
        assert!((got - n).abs() < 1e-6, "{got}");
    }
}
