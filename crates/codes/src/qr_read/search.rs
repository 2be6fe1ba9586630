//! Running the attempts: working images, candidates, the budget, and the
//! preference for `CQ1.` texts.

use std::collections::HashMap;

use image::DynamicImage;

use super::QrReadError;
use super::attempts::{Attempt, MIN_SIDE, plan};
use super::candidate::{Candidate, same_symbol};
use super::deadline::Deadline;
use super::finder;
use super::finder_fit::FitCache;
use super::grey::Grey;
use super::locate;
use super::resample::{self, Miss};

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

/// Run the plan until a `CQ1.` text decodes or the deadline passes.
pub(crate) fn run(
    image: &DynamicImage,
    deadline: Deadline,
) -> (Result<String, QrReadError>, ReadStats) {
    let mut base = Grey::from_image(image);
    if base.max_dim() > MAX_SIDE {
        base = base.downscale(base.max_dim().div_ceil(MAX_SIDE));
    }
    if base.w.min(base.h) < MIN_SIDE {
        return (Err(QrReadError::NotFound), ReadStats::default());
    }
    let attempts = plan(&base);
    let mut search = Search::new(base, deadline);
    let mut outcome = Err(QrReadError::NotFound);
    for attempt in attempts {
        if deadline.passed() {
            outcome = Err(QrReadError::TimedOut);
            break;
        }
        // After a non-CQ1 code, finish that scale (a CQ1 code may sit next
        // to it) but do not go on to costlier ones.
        if search
            .foreign
            .as_ref()
            .is_some_and(|f| f.scale != attempt.scale())
        {
            break;
        }
        if let Some(text) = search.attempt(&attempt) {
            search.stats.decoded_by = Some(attempt.describe());
            return (Ok(text), search.stats);
        }
    }
    match search.foreign {
        Some(foreign) => {
            search.stats.decoded_by = Some(foreign.by);
            (Ok(foreign.text), search.stats)
        }
        None => (outcome, search.stats),
    }
}

/// A decoded text that is not a collection code, kept in case nothing
/// better turns up.
struct Foreign {
    text: String,
    by: String,
    scale: (usize, usize),
}

/// A working image: (down, up, inverted) relative to the base image.
type LevelKey = (usize, usize, bool);

/// The base image's key.
const BASE: LevelKey = (1, 1, false);

/// State shared by the attempts of one read.
struct Search {
    deadline: Deadline,
    /// Working images, the base among them, made when first needed.
    levels: HashMap<LevelKey, Grey>,
    /// Real symbols already resampled without success.
    unreadable: Vec<Candidate>,
    /// Finder fits on the base image and on its inverse.
    fits: [FitCache; 2],
    foreign: Option<Foreign>,
    stats: ReadStats,
}

impl Search {
    fn new(base: Grey, deadline: Deadline) -> Self {
        Search {
            deadline,
            levels: HashMap::from([(BASE, base)]),
            unreadable: Vec::new(),
            fits: [FitCache::default(), FitCache::default()],
            foreign: None,
            stats: ReadStats::default(),
        }
    }

    fn base(&self) -> Option<&Grey> {
        self.levels.get(&BASE)
    }

    /// Make the working image `key` if it does not exist yet.
    fn ensure_level(&mut self, key: LevelKey) {
        if self.levels.contains_key(&key) {
            return;
        }
        let Some(base) = self.base() else {
            return;
        };
        let (down, up, invert) = key;
        let scaled = if up > 1 {
            base.upscale(up)
        } else {
            base.downscale(down)
        };
        let level = if invert { scaled.invert() } else { scaled };
        self.levels.insert(key, level);
    }

    /// One attempt; returns a `CQ1.` text if one decoded, and remembers the
    /// first other text.
    fn attempt(&mut self, attempt: &Attempt) -> Option<String> {
        self.stats.attempts += 1;
        let key = (attempt.down, attempt.up, attempt.invert);
        // Candidates are resampled at full resolution, same polarity.
        let sampling_key = (1, 1, attempt.invert);
        self.ensure_level(key);
        self.ensure_level(sampling_key);
        let (Some(level), Some(sampling)) = (self.levels.get(&key), self.levels.get(&sampling_key))
        else {
            return None;
        };
        let (grids, triples) = match attempt.binarise.apply(level) {
            None => (locate::find_native(level), Vec::new()),
            Some(bitmap) => {
                let triples = finder::group(&finder::find_finders(&bitmap));
                (locate::find_in_bitmap(&bitmap), triples)
            }
        };
        // Texts rqrr decoded directly first; then its undecoded grids and our
        // finder triples, resampled on the full-resolution grey image.
        let mut texts: Vec<String> = grids.iter().filter_map(|f| f.text.clone()).collect();
        if let Some(text) = take_cq1(&mut self.foreign, &mut texts, attempt) {
            return Some(text);
        }
        let to_base = attempt.down as f64 / attempt.up as f64;
        let candidates = grids
            .iter()
            .filter(|f| f.text.is_none())
            .filter_map(Candidate::from_found)
            .chain(triples)
            .map(|c| c.scaled(to_base));
        let fits = &mut self.fits[usize::from(attempt.invert)];
        for cand in candidates {
            if self.deadline.passed() {
                break;
            }
            if self.unreadable.iter().any(|done| same_symbol(done, &cand)) {
                continue;
            }
            match resample::decode(sampling, &cand, fits, &self.deadline) {
                Ok(text) => texts.push(text),
                Err(Miss::Unreadable(refined)) => {
                    self.stats.undecoded_grids += 1;
                    self.unreadable.push(refined);
                }
                Err(Miss::NotASymbol) => {}
            }
            if let Some(text) = take_cq1(&mut self.foreign, &mut texts, attempt) {
                return Some(text);
            }
        }
        None
    }
}

/// A `CQ1.` text among `texts`, if any; otherwise the first text is kept
/// as the foreign fallback. Empties `texts`.
fn take_cq1(
    foreign: &mut Option<Foreign>,
    texts: &mut Vec<String>,
    attempt: &Attempt,
) -> Option<String> {
    let mut cq1 = None;
    for text in texts.drain(..) {
        if text.starts_with(crate::token::PREFIX) {
            cq1.get_or_insert(text);
        } else if foreign.is_none() {
            *foreign = Some(Foreign {
                text,
                by: attempt.describe(),
                scale: attempt.scale(),
            });
        }
    }
    cq1
}
