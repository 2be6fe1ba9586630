//! The ordered list of attempts and the loop that runs them.

use std::collections::HashMap;

use image::DynamicImage;

use super::QrReadError;
use super::binarize;
use super::deadline::Deadline;
use super::finder;
use super::grey::Grey;
use super::candidate::{Candidate, same_symbol};
use super::locate;
use super::resample;

/// Largest side we work on. Phones deliver up to 8000 px; beyond ~4000 px a
/// code big enough to matter has modules of many pixels, so halving first
/// costs nothing and keeps every pass affordable.
const MAX_SIDE: usize = 4200;

/// What the reader did, for logs and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct ReadStats {
    /// Attempts started.
    pub attempts: usize,
    /// Description of the attempt that produced the text, if any.
    pub decoded_by: Option<String>,
    /// Grids located but not decodable by any means.
    pub undecoded_grids: usize,
}

/// How a grey level becomes black and white for the finder search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binarise {
    /// rqrr's own row-average threshold.
    Native,
    /// Window mean with radius = side / `div`.
    Adaptive { div: usize, bias: u8 },
}

/// One pass of finder search (and decode) over one preprocessed image.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    /// Working image = base / `down` * `up`.
    down: usize,
    up: usize,
    binarise: Binarise,
    invert: bool,
}

impl Attempt {
    fn describe(&self) -> String {
        let scale = if self.up > 1 {
            format!("x{}", self.up)
        } else {
            format!("/{}", self.down)
        };
        let bin = match self.binarise {
            Binarise::Native => "rqrr".to_owned(),
            Binarise::Adaptive { div, bias } => format!("mean(side/{div},-{bias})"),
        };
        format!("{scale} {bin}{}", if self.invert { " inverted" } else { "" })
    }
}

/// Attempts for a base image, cheapest and most likely first: small scales
/// find the large, sharp codes of screenshots and close-ups in a few tens of
/// milliseconds; full resolution is needed for small modules; inversion and
/// upscaling are rare cases.
fn plan(base: &Grey) -> Vec<Attempt> {
    let side = base.max_dim();
    let mut downs: Vec<usize> = [1000, 2000]
        .iter()
        .map(|&target| side.div_ceil(target))
        .filter(|&f| f > 1)
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
        out.push(Attempt {
            down,
            up: 1,
            binarise: Binarise::Native,
            invert: true,
        });
    }
    out
}

/// Run the plan until a `CQ1.` text decodes or the deadline passes.
pub(crate) fn run(image: &DynamicImage, deadline: Deadline) -> (Result<String, QrReadError>, ReadStats) {
    let mut stats = ReadStats::default();
    let mut base = Grey::from_image(image);
    if base.w == 0 || base.h == 0 {
        return (Err(QrReadError::NotFound), stats);
    }
    if base.max_dim() > MAX_SIDE {
        base = base.downscale(base.max_dim().div_ceil(MAX_SIDE));
    }
    let mut inverted_base: Option<Grey> = None;
    let mut levels: HashMap<(usize, usize, bool), Grey> = HashMap::new();
    let mut resampled: Vec<Candidate> = Vec::new();
    // A non-CQ1 text, the attempt that read it and its scale.
    let mut foreign: Option<(String, String, (usize, usize))> = None;
    for attempt in plan(&base) {
        if deadline.passed() {
            return finish(foreign, stats, Err(QrReadError::TimedOut));
        }
        // After a non-CQ1 code, finish that scale (a CQ1 code may sit next
        // to it) but do not go on to costlier ones.
        if foreign.as_ref().is_some_and(|f| f.2 != (attempt.down, attempt.up)) {
            break;
        }
        stats.attempts += 1;
        let t0 = std::time::Instant::now();
        let level = levels
            .entry((attempt.down, attempt.up, attempt.invert))
            .or_insert_with(|| {
                let g = if attempt.up > 1 {
                    base.upscale(attempt.up)
                } else {
                    base.downscale(attempt.down)
                };
                if attempt.invert { g.invert() } else { g }
            });
        let (found, groups) = match attempt.binarise {
            Binarise::Native => (locate::find_native(level), Vec::new()),
            Binarise::Adaptive { div, bias } => {
                let r = (level.max_dim() / div).max(4);
                let tb = std::time::Instant::now();
                let bitmap = binarize::adaptive(level, r, bias);
                let tb1 = tb.elapsed();
                let finders = finder::find_finders(&bitmap);
                if std::env::var("QR_DEBUG").is_ok() { eprintln!("   binarize {tb1:?} finders {:?}", tb.elapsed()); }
                if std::env::var("QR_DEBUG2").is_ok() {
                    let mut fs: Vec<_> = finders.iter().filter(|f| f.hits >= 2).collect();
                    fs.sort_by(|a, b| b.hits.cmp(&a.hits));
                    for f in fs.iter().take(30) { eprintln!("    finder ({:.0},{:.0}) m={:.2} hits={}", f.x * attempt.down as f64, f.y * attempt.down as f64, f.module * attempt.down as f64, f.hits); }
                }
                let groups = finder::group(&finders);
                (locate::find_in_bitmap(&bitmap), groups)
            }
        };
        let sampling = if attempt.invert {
            &*inverted_base.get_or_insert_with(|| base.invert())
        } else {
            &base
        };
        let to_base = attempt.down as f64 / attempt.up as f64;
        if std::env::var("QR_DEBUG").is_ok() {
            eprintln!("attempt {} {:?} found {:?} groups {:?}", attempt.describe(), t0.elapsed(), found.iter().map(|f| (f.size, f.text.is_some(), f.quad[0])).collect::<Vec<_>>(), groups.iter().map(|g| (g.sizes[0], g.tl)).collect::<Vec<_>>());
        }
        // Texts rqrr decoded directly come first; its undecoded grids and
        // our finder triples are resampled, each symbol once.
        let mut texts: Vec<String> = found.iter().filter_map(|f| f.text.clone()).collect();
        let candidates = found
            .iter()
            .filter(|f| f.text.is_none())
            .filter_map(Candidate::from_found)
            .chain(groups)
            .map(|c| c.scaled(to_base));
        for cand in candidates {
            if !texts.is_empty() || deadline.passed() {
                break;
            }
            if resampled.iter().any(|done| same_symbol(done, &cand)) {
                continue;
            }
            let t1 = std::time::Instant::now();
            match resample::decode(sampling, &cand, &deadline) {
                Some(t) => texts.push(t),
                None => stats.undecoded_grids += 1,
            }
            if std::env::var("QR_DEBUG").is_ok() { eprintln!("   resample {:?}", t1.elapsed()); }
            resampled.push(cand);
        }
        for text in texts {
            let by = attempt.describe();
            if text.starts_with(crate::token::PREFIX) {
                stats.decoded_by = Some(by);
                return (Ok(text), stats);
            }
            foreign.get_or_insert((text, by, (attempt.down, attempt.up)));
        }
    }
    finish(foreign, stats, Err(QrReadError::NotFound))
}

fn finish(
    foreign: Option<(String, String, (usize, usize))>,
    mut stats: ReadStats,
    otherwise: Result<String, QrReadError>,
) -> (Result<String, QrReadError>, ReadStats) {
    match foreign {
        Some((text, by, _)) => {
            stats.decoded_by = Some(by);
            (Ok(text), stats)
        }
        None => (otherwise, stats),
    }
}
