//! Aligning a symbol's module grid to the photo on the grey image, by
//! maximising the correlation between the modules the standard fixes
//! (finder, timing and alignment patterns) and the grey levels under them.
//! Works on the grey image, so it is as precise on blurred, small modules
//! as on sharp ones, and it tells a real symbol (high correlation) from
//! texture that happened to pass the finder tests.

use super::candidate::Candidate;
use super::finder_fit::FinderFit;
use super::grey::Grey;
use super::homography::{Homography, Pt, grid_point};
use super::layout::{Known, Layout};
use super::perspective;

/// Template correlation below which a placement is not worth reading.
/// Measured: texture scores under 0.15, a real symbol tried with the wrong
/// module count up to 0.5, the right one 0.6–0.98 even blurred and at an
/// angle.
pub(crate) const MIN_SYMBOL_SCORE: f32 = 0.3;

/// Template correlation of a clearly aligned symbol; below it the wide
/// search for the fourth corner runs.
pub(crate) const GOOD_SYMBOL_SCORE: f32 = 0.55;

/// How far (in modules) the fourth finder centre is searched from each
/// guess: a quarter of the symbol, 14 to 24 modules, which covers a code
/// photographed about 40° off-axis.
fn fourth_search_radius(size: usize) -> i32 {
    ((size / 4) as i32).clamp(14, 24) & !1
}

/// Place a `size`-module symbol: the fourth finder centre predicted from
/// the three fitted finders is polished by a small image search; if that
/// does not give a clearly aligned symbol (imprecise finder vectors), wider
/// searches around the parallelogram completion and the detector's guess.
pub(crate) fn place(
    g: &Grey,
    template: &Template,
    cand: &Candidate,
    fits: [&FinderFit; 3],
) -> Option<([Pt; 4], f32)> {
    let [tl, tr, bl] = fits;
    let predicted = perspective::predict_fourth(tl, tr, bl, template.layout.size);
    let near = place_fourth(g, template, cand, &[predicted], 6);
    if near.is_some_and(|p| p.1 >= GOOD_SYMBOL_SCORE) {
        return near;
    }
    let mut starts = vec![cand.parallelogram()];
    starts.extend(cand.fourth);
    let wide = place_fourth(
        g,
        template,
        cand,
        &starts,
        fourth_search_radius(template.layout.size),
    );
    match (near, wide) {
        (Some(n), Some(w)) => Some(if w.1 > n.1 { w } else { n }),
        (n, w) => n.or(w),
    }
}

/// Search stage. The three finder centres are reliable but where the
/// fourth corner goes (the parallelogram completion, or rqrr's
/// alignment-pattern guess) is often several modules off under perspective
/// and blur. So the virtual fourth finder centre is searched on a 2-module
/// lattice around each guess in `starts`, scoring the whole template (the
/// alignment patterns decide).
fn place_fourth(
    g: &Grey,
    template: &Template,
    cand: &Candidate,
    starts: &[Pt],
    radius: i32,
) -> Option<([Pt; 4], f32)> {
    let module = cand.module;
    let mut best: Option<([Pt; 4], f32)> = None;
    for &start in starts {
        for dy in (-radius..=radius).step_by(2) {
            for dx in (-radius..=radius).step_by(2) {
                let fourth = (start.0 + dx as f64 * module, start.1 + dy as f64 * module);
                let Some(q) = cand.corners(template.size, fourth) else {
                    continue;
                };
                let s = template.score(g, &q);
                if best.is_none_or(|b| s > b.1) {
                    best = Some((q, s));
                }
            }
        }
    }
    best
}

/// Polishing stage: move every corner by coordinate descent with steps
/// shrinking from one module to 1/64: the lattice search and the finder
/// fits leave errors of a fraction of a module, which matter when modules
/// are a few pixels.
pub(crate) fn polish(g: &Grey, template: &Template, quad: [Pt; 4], score: f32) -> ([Pt; 4], f32) {
    let (mut best, mut best_score) = (quad, score);
    let mut step = module_px(&quad, template.size);
    for _ in 0..7 {
        for _ in 0..3 {
            let mut improved = false;
            for corner in 0..4 {
                for (dx, dy) in [(step, 0.0), (-step, 0.0), (0.0, step), (0.0, -step)] {
                    let mut q = best;
                    q[corner].0 += dx;
                    q[corner].1 += dy;
                    let s = template.score(g, &q);
                    if s > best_score {
                        best_score = s;
                        best = q;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
        step *= 0.5;
    }
    (best, best_score)
}

/// Average module pitch in pixels along the top and left edges.
fn module_px(quad: &[Pt; 4], size: usize) -> f64 {
    let top = (quad[1].0 - quad[0].0).hypot(quad[1].1 - quad[0].1);
    let left = (quad[3].0 - quad[0].0).hypot(quad[3].1 - quad[0].1);
    (top + left) / 2.0 / size as f64
}

/// The known modules as (centre x, centre y, +1 dark / −1 light).
pub(crate) struct Template {
    pub layout: Layout,
    size: usize,
    cells: Vec<(f64, f64, f32)>,
    sign_sum: f32,
}

impl Template {
    pub fn new(layout: Layout) -> Self {
        let n = layout.size;
        let cells: Vec<(f64, f64, f32)> = (0..n * n)
            .filter_map(|i| {
                let (x, y) = ((i % n) as f64 + 0.5, (i / n) as f64 + 0.5);
                match layout.cells[i] {
                    Known::Dark => Some((x, y, 1.0)),
                    Known::Light => Some((x, y, -1.0)),
                    Known::Unknown => None,
                }
            })
            .collect();
        let sign_sum = cells.iter().map(|c| c.2).sum();
        Template {
            layout,
            size: n,
            cells,
            sign_sum,
        }
    }

    /// Correlation between darkness under the grid and the template (up to
    /// a constant factor); higher is better aligned.
    pub fn score(&self, g: &Grey, quad: &[Pt; 4]) -> f32 {
        let Some(h) = Homography::square_to_quad(quad) else {
            return f32::MIN;
        };
        let (mut sum, mut sum_sq, mut cross) = (0.0f32, 0.0f32, 0.0f32);
        for &(x, y, sign) in &self.cells {
            let (px, py) = grid_point(&h, self.size, x, y);
            let v = g.sample(px as f32, py as f32);
            sum += v;
            sum_sq += v * v;
            cross += sign * v;
        }
        let n = self.cells.len() as f32;
        let mean = sum / n;
        let var = (sum_sq / n - mean * mean).max(1e-3);
        -(cross - mean * self.sign_sum) / (n * var.sqrt())
    }
}
