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
const SUB: [(f64, f64); 5] = [
    (0.0, 0.0),
    (-0.25, -0.25),
    (0.25, -0.25),
    (-0.25, 0.25),
    (0.25, 0.25),
];

fn score(g: &Grey, c: Pt, ux: Pt, uy: Pt) -> f32 {
    let (mut sum, mut sum_sq, mut cross, mut sign_sum, mut n) =
        (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
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
/// symbol geometry, length from a rough pitch estimate). Scale and position
/// are searched on lattices first (the start may be off by 20% and most of
/// a module), then all six parameters are polished by coordinate descent.
pub(crate) fn fit(g: &Grey, c: Pt, ux: Pt, uy: Pt) -> FinderFit {
    let mut best = FinderFit {
        c,
        ux,
        uy,
        score: score(g, c, ux, uy),
    };
    let rescale = |f: &FinderFit, k: f64| FinderFit {
        ux: (f.ux.0 * k, f.ux.1 * k),
        uy: (f.uy.0 * k, f.uy.1 * k),
        ..*f
    };
    let scale_search = |best: &mut FinderFit, lo: f64, hi: f64| {
        let start = *best;
        let mut k = lo;
        while k <= hi {
            let t = rescale(&start, k);
            let s = score(g, t.c, t.ux, t.uy);
            if s > best.score {
                *best = FinderFit { score: s, ..t };
            }
            k *= 1.04;
        }
    };
    scale_search(&mut best, 0.6, 1.7);
    // Position, ±2 modules in thirds of a module along the grid axes.
    let start = best;
    for j in -6..=6 {
        for i in -6..=6 {
            let (a, b) = (i as f64 / 3.0, j as f64 / 3.0);
            let c = (
                start.c.0 + a * start.ux.0 + b * start.uy.0,
                start.c.1 + a * start.ux.1 + b * start.uy.1,
            );
            let s = score(g, c, start.ux, start.uy);
            if s > best.score {
                best = FinderFit {
                    c,
                    score: s,
                    ..start
                };
            }
        }
    }
    scale_search(&mut best, 0.8, 1.25);
    let len = norm(best.ux).max(0.5);
    let (mut pos_step, mut vec_step) = (len * 0.25, len * 0.08);
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

/// Template correlation of a clearly found finder.
pub(crate) const GOOD_FIT: f32 = 0.6;

/// Fits already made during one read, so that a finder shared by several
/// candidate triples is fitted once.
#[derive(Default)]
pub(crate) struct FitCache {
    entries: Vec<(Pt, f64, FinderFit)>,
}

impl FitCache {
    /// [`fit`], reusing an earlier fit started near `c` with the same grid
    /// orientation (the template is symmetric under quarter turns, so
    /// orientations are compared modulo 90°). The result's vectors are
    /// turned to match the requested `ux` direction.
    pub fn fit(&mut self, g: &Grey, c: Pt, ux: Pt, uy: Pt) -> FinderFit {
        let angle = ux.1.atan2(ux.0).rem_euclid(std::f64::consts::FRAC_PI_2);
        let m = norm(ux);
        // A good fit is reused for any start near its start or its result;
        // a poor one only for (nearly) the same start.
        let cached = self.entries.iter().find(|(at, a, f)| {
            let da = (a - angle).abs();
            let da = da.min(std::f64::consts::FRAC_PI_2 - da);
            let near = |p: Pt, r: f64| (p.0 - c.0).hypot(p.1 - c.1) < r;
            let good = f.score >= GOOD_FIT;
            da < 0.15 && (near(*at, if good { m } else { m * 0.3 }) || (good && near(f.c, m)))
        });
        let fitted = match cached {
            Some(&(_, _, f)) => f,
            None => {
                let f = fit(g, c, ux, uy);
                self.entries.push((c, angle, f));
                f
            }
        };
        turn_towards(fitted, ux)
    }
}

/// The quarter turn of the fitted frame whose x vector points most along
/// `ux`.
fn turn_towards(f: FinderFit, ux: Pt) -> FinderFit {
    let mut best = f;
    let mut frame = (f.ux, f.uy);
    let mut best_dot = f64::MIN;
    for _ in 0..4 {
        let dot = frame.0.0 * ux.0 + frame.0.1 * ux.1;
        if dot > best_dot {
            best_dot = dot;
            best = FinderFit {
                ux: frame.0,
                uy: frame.1,
                ..f
            };
        }
        // Quarter turn keeping handedness: (x, y) -> (y, -x).
        frame = (frame.1, (-frame.0.0, -frame.0.1));
    }
    best
}
