//! Predicting the perspective of a symbol from its three fitted finders.
//!
//! A plane's image is a homography: three finder centres fix 6 of its 8
//! degrees of freedom, the remaining 2 are where a fourth finder would be.
//! The local module vectors measured at each finder must be the homography's
//! derivatives there, which pins that fourth point down without searching
//! the image; the image search then only polishes it.

use super::finder_fit::FinderFit;
use super::homography::{Homography, Pt};

/// The virtual fourth finder centre that best explains the module vectors
/// fitted at the three finders of a `size`-module symbol.
pub(crate) fn predict_fourth(tl: &FinderFit, tr: &FinderFit, bl: &FinderFit, size: usize) -> Pt {
    let span = size as f64 - 7.0;
    let cost = |x: Pt| -> f64 {
        let Some(h) = Homography::square_to_quad(&[tl.c, tr.c, x, bl.c]) else {
            return f64::MAX;
        };
        let mut total = 0.0;
        for (f, t) in [(tl, (0.0, 0.0)), (tr, (1.0, 0.0)), (bl, (0.0, 1.0))] {
            let (jx, jy) = jacobian(&h, t, span);
            let m2 = (f.ux.0 * f.ux.0 + f.ux.1 * f.ux.1).max(1e-9);
            total += ((jx.0 - f.ux.0).powi(2) + (jx.1 - f.ux.1).powi(2)) / m2;
            total += ((jy.0 - f.uy.0).powi(2) + (jy.1 - f.uy.1).powi(2)) / m2;
        }
        total
    };
    let module = (tl.ux.0.hypot(tl.ux.1) + tl.uy.0.hypot(tl.uy.1)) / 2.0;
    let mut best = (tr.c.0 + bl.c.0 - tl.c.0, tr.c.1 + bl.c.1 - tl.c.1);
    let mut best_cost = cost(best);
    let mut step = module * 8.0;
    while step > module / 16.0 {
        let mut improved = true;
        while improved {
            improved = false;
            for (dx, dy) in [(step, 0.0), (-step, 0.0), (0.0, step), (0.0, -step)] {
                let x = (best.0 + dx, best.1 + dy);
                let c = cost(x);
                if c < best_cost {
                    best_cost = c;
                    best = x;
                    improved = true;
                }
            }
        }
        step *= 0.5;
    }
    best
}

/// One-module derivatives of `h` (unit-square parameters spanning `span`
/// modules) at parameter point `t`.
fn jacobian(h: &Homography, t: Pt, span: f64) -> (Pt, Pt) {
    let e = 0.5 / span;
    let d = |a: Pt, b: Pt| {
        (
            (a.0 - b.0) / (2.0 * e * span),
            (a.1 - b.1) / (2.0 * e * span),
        )
    };
    let jx = d(h.map(t.0 + e, t.1), h.map(t.0 - e, t.1));
    let jy = d(h.map(t.0, t.1 + e), h.map(t.0, t.1 - e));
    (jx, jy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_fourth_point_of_a_known_perspective() {
        let size = 85usize;
        let truth = [(100.0, 100.0), (520.0, 80.0), (560.0, 540.0), (90.0, 470.0)];
        let h = Homography::square_to_quad(&truth).expect("valid quad");
        let span = size as f64 - 7.0;
        let fit_at = |t: Pt| {
            let (ux, uy) = jacobian(&h, t, span);
            FinderFit {
                c: h.map(t.0, t.1),
                ux,
                uy,
                score: 1.0,
            }
        };
        let (tl, tr, bl) = (fit_at((0.0, 0.0)), fit_at((1.0, 0.0)), fit_at((0.0, 1.0)));
        let got = predict_fourth(&tl, &tr, &bl, size);
        assert!(
            (got.0 - truth[2].0).abs() < 0.5 && (got.1 - truth[2].1).abs() < 0.5,
            "{got:?}"
        );
    }
}
