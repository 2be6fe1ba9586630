//! The ordered list of attempts: which scale, which binarisation.

use super::binarize::{self, Bitmap};
use super::grey::Grey;

/// Smallest image side worth searching: a version-1 symbol at one pixel
/// per module.
pub(crate) const MIN_SIDE: usize = 21;

/// How a grey level becomes black and white for the finder search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binarise {
    /// rqrr's own row-average threshold.
    Native,
    /// Window mean with radius = side / `div`.
    Adaptive { div: usize, bias: u8 },
    /// Global three-class Otsu, ink against paper.
    UpperOtsu,
}

/// One pass of finder search (and decode) over one preprocessed image.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt {
    /// Working image = base / `down` * `up`.
    pub down: usize,
    pub up: usize,
    pub binarise: Binarise,
    pub invert: bool,
}

impl Attempt {
    /// The working scale, as (down, up).
    pub fn scale(&self) -> (usize, usize) {
        (self.down, self.up)
    }

    /// Human-readable description, for `ReadStats::decoded_by`.
    pub fn describe(&self) -> String {
        let scale = if self.up > 1 {
            format!("x{}", self.up)
        } else {
            format!("/{}", self.down)
        };
        let bin = match self.binarise {
            Binarise::Native => "rqrr".to_owned(),
            Binarise::Adaptive { div, bias } => format!("mean(side/{div},-{bias})"),
            Binarise::UpperOtsu => "otsu3".to_owned(),
        };
        format!(
            "{scale} {bin}{}",
            if self.invert { " inverted" } else { "" }
        )
    }
}

/// Attempts for a base image, cheapest and most likely first: small scales
/// find the large, sharp codes of screenshots and close-ups in a few tens of
/// milliseconds; full resolution is needed for small modules; inversion and
/// upscaling are rare cases.
pub(crate) fn plan(base: &Grey) -> Vec<Attempt> {
    let side = base.max_dim();
    let short = base.w.min(base.h);
    let mut downs: Vec<usize> = [1000, 2000]
        .iter()
        .map(|&target| side.div_ceil(target))
        .filter(|&f| f > 1 && short / f >= MIN_SIDE)
        .collect();
    downs.push(1);
    downs.dedup();
    let mut out = Vec::new();
    for &down in &downs {
        for binarise in [
            Binarise::Native,
            Binarise::Adaptive { div: 40, bias: 3 },
            Binarise::Adaptive { div: 12, bias: 3 },
            Binarise::Adaptive { div: 100, bias: 3 },
            Binarise::UpperOtsu,
        ] {
            out.push(Attempt {
                down,
                up: 1,
                binarise,
                invert: false,
            });
        }
    }
    if side <= 1400 {
        for binarise in [Binarise::Native, Binarise::Adaptive { div: 40, bias: 3 }] {
            out.push(Attempt {
                down: 1,
                up: 2,
                binarise,
                invert: false,
            });
        }
    }
    for &down in &downs {
        for binarise in [Binarise::Native, Binarise::Adaptive { div: 40, bias: 3 }] {
            out.push(Attempt {
                down,
                up: 1,
                binarise,
                invert: true,
            });
        }
    }
    out
}

impl Binarise {
    /// The black-and-white image for our finder search; `None` for rqrr's
    /// own binarisation, which happens inside rqrr.
    pub fn apply(self, level: &Grey) -> Option<Bitmap> {
        match self {
            Binarise::Native => None,
            Binarise::Adaptive { div, bias } => Some(binarize::adaptive(
                level,
                (level.max_dim() / div).max(4),
                bias,
            )),
            Binarise::UpperOtsu => Some(binarize::upper_otsu(level)),
        }
    }
}
