//! A possible symbol: three finder centres, from rqrr's grids or from our
//! own finder triples, plus whatever the detector guessed about its size and
//! fourth corner.

use super::homography::{Homography, Pt};
use super::locate::Found;

#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    /// Finder centres: top-left, top-right, bottom-left (symbol orientation).
    pub tl: Pt,
    pub tr: Pt,
    pub bl: Pt,
    /// A guess of where a fourth finder would be centred (grid position
    /// size − 3.5 on both axes), when the detector made one.
    pub fourth: Option<Pt>,
    /// Module pitch near the top-left finder, pixels.
    pub module: f64,
    /// Sizes the detector suggests, most likely first.
    pub sizes: Vec<usize>,
}

impl Candidate {
    /// From a grid rqrr located (but could not decode).
    pub fn from_found(f: &Found) -> Option<Self> {
        let h = Homography::square_to_quad(&f.quad)?;
        let n = f.size as f64;
        let (near, far) = (3.5 / n, (n - 3.5) / n);
        let top = (f.quad[1].0 - f.quad[0].0).hypot(f.quad[1].1 - f.quad[0].1);
        let left = (f.quad[3].0 - f.quad[0].0).hypot(f.quad[3].1 - f.quad[0].1);
        Some(Candidate {
            tl: h.map(near, near),
            tr: h.map(far, near),
            bl: h.map(near, far),
            fourth: Some(h.map(far, far)),
            module: (top + left) / 2.0 / n,
            sizes: vec![f.size],
        })
    }

    /// The same candidate in an image `factor` times larger.
    pub fn scaled(&self, factor: f64) -> Self {
        let s = |p: Pt| (p.0 * factor, p.1 * factor);
        Candidate {
            tl: s(self.tl),
            tr: s(self.tr),
            bl: s(self.bl),
            fourth: self.fourth.map(s),
            module: self.module * factor,
            sizes: self.sizes.clone(),
        }
    }

    /// The parallelogram completion of the three finder centres: where a
    /// fourth finder would be without perspective.
    pub fn parallelogram(&self) -> Pt {
        (
            self.tr.0 + self.bl.0 - self.tl.0,
            self.tr.1 + self.bl.1 - self.tl.1,
        )
    }

    /// Corners of a `size`-module symbol whose finder centres (3.5 modules
    /// from the edges) are at tl, tr, bl and whose virtual fourth finder is
    /// at `fourth`. Going through the centres keeps the three measured
    /// points exact while `fourth` carries all of the perspective.
    pub fn corners(&self, size: usize, fourth: Pt) -> Option<[Pt; 4]> {
        let h = Homography::square_to_quad(&[self.tl, self.tr, fourth, self.bl])?;
        let k = 3.5 / (size as f64 - 7.0);
        Some([
            h.map(-k, -k),
            h.map(1.0 + k, -k),
            h.map(1.0 + k, 1.0 + k),
            h.map(-k, 1.0 + k),
        ])
    }

    /// One-module vectors along the top edge and down the left edge, as seen
    /// at the top-left finder.
    pub fn module_vectors(&self) -> (Pt, Pt) {
        let unit = |a: Pt, b: Pt| {
            let d = (b.0 - a.0).hypot(b.1 - a.1).max(1e-9);
            ((b.0 - a.0) / d * self.module, (b.1 - a.1) / d * self.module)
        };
        (unit(self.tl, self.tr), unit(self.tl, self.bl))
    }
}

/// Whether two candidates are the same symbol (finder centres within a
/// module or two), so it is resampled only once.
pub(crate) fn same_symbol(a: &Candidate, b: &Candidate) -> bool {
    let tol = a.module.max(b.module) * 2.0;
    let near = |p: Pt, q: Pt| (p.0 - q.0).abs() < tol && (p.1 - q.1).abs() < tol;
    near(a.tl, b.tl) && near(a.tr, b.tr) && near(a.bl, b.bl)
}
