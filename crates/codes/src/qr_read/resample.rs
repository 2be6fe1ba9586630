//! Decoding a candidate symbol from the grey image instead of rqrr's binary
//! one.
//!
//! rqrr samples one pixel per module of its own thresholded picture and
//! needs its timing scan and alignment-pattern search to succeed there;
//! blur, small modules and perspective defeat both. Here the three finders
//! are fitted on the grey image, which gives the module count and the
//! perspective; the grid is aligned to the known patterns ([`align`]) and
//! read module by module ([`modules`]).

use super::align::{self, GOOD_SYMBOL_SCORE, MIN_SYMBOL_SCORE, Template};
use super::candidate::Candidate;
use super::deadline::Deadline;
use super::finder_fit::{FinderFit, FitCache, GOOD_FIT, modules_between, norm};
use super::grey::Grey;
use super::homography::Pt;
use super::layout::Layout;
use super::modules;

/// Why a candidate gave no text.
pub(crate) enum Miss {
    /// Its "finders" are not (all) finder patterns: nothing was there.
    NotASymbol,
    /// A real symbol (finders fitted well, at these refined centres) that
    /// could not be aligned or decoded: not worth retrying.
    Unreadable(Candidate),
}

/// Finder template correlation below which a detected "finder" is texture
/// (data modules, text) rather than a finder pattern (real ones, blurred or
/// dim, fit at 0.5 and above; most at 0.9).
const MIN_FINDER_SCORE: f32 = 0.45;

/// How many of a candidate's size hypotheses are read, best-aligned first.
const READ_BEST: usize = 2;

/// Decode a candidate (in `g`'s coordinates): fit its finders, derive size
/// hypotheses, align each, read the best-aligned ones.
pub(crate) fn decode(
    g: &Grey,
    cand: &Candidate,
    fits: &mut FitCache,
    deadline: &Deadline,
) -> Result<String, Miss> {
    let (right, down) = cand.module_vectors();
    // One by one, so a false first finder costs one fit, not three.
    let mut fit = |c: Pt| {
        let f = fits.fit(g, c, right, down);
        (f.score >= MIN_FINDER_SCORE)
            .then_some(f)
            .ok_or(Miss::NotASymbol)
    };
    let tl = fit(cand.tl)?;
    let tr = fit(cand.tr)?;
    let bl = fit(cand.bl)?;
    let cand = Candidate {
        tl: tl.c,
        tr: tr.c,
        bl: bl.c,
        module: (norm(tl.ux) + norm(tl.uy)) / 2.0,
        ..cand.clone()
    };
    // (score, template, corners, already read)
    let mut placed: Vec<(f32, Template, [Pt; 4], bool)> = Vec::new();
    for size in size_hypotheses(&cand, [&tl, &tr, &bl]) {
        if deadline.passed() {
            break;
        }
        let Some(layout) = Layout::new(size) else {
            continue;
        };
        let template = Template::new(layout);
        let Some((quad, score)) = align::place(g, &template, &cand, [&tl, &tr, &bl]) else {
            continue;
        };
        // A clearly aligned symbol is read at once; the usual case needs
        // no other hypothesis.
        let clear = score >= GOOD_SYMBOL_SCORE;
        if clear && let Some(text) = read_placed(g, &template, quad, score, deadline) {
            return Ok(text);
        }
        placed.push((score, template, quad, clear));
    }
    placed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (score, template, quad, done) in placed.into_iter().take(READ_BEST) {
        if score < MIN_SYMBOL_SCORE || deadline.passed() {
            break;
        }
        if !done && let Some(text) = read_placed(g, &template, quad, score, deadline) {
            return Ok(text);
        }
    }
    if tl.score.min(tr.score).min(bl.score) >= GOOD_FIT {
        Err(Miss::Unreadable(cand))
    } else {
        // Doubtful finders: let another detection of this place try again.
        Err(Miss::NotASymbol)
    }
}

/// Polish a placement and read its modules.
fn read_placed(
    g: &Grey,
    template: &Template,
    quad: [Pt; 4],
    score: f32,
    deadline: &Deadline,
) -> Option<String> {
    let (quad, _) = align::polish(g, template, quad, score);
    let samples = modules::sample(g, template.layout.size, &quad)?;
    modules::read(&template.layout, &samples, deadline)
}

/// Module counts to try, most likely first: from the fitted finders'
/// distances and pitches (see [`modules_between`]), the detector's own
/// estimate, then one version either side of the finder estimate. (Counting
/// the timing patterns was tried as well and added nothing: blur merges
/// their alternation.)
fn size_hypotheses(cand: &Candidate, fits: [&FinderFit; 3]) -> Vec<usize> {
    let [tl, tr, bl] = fits;
    let across = modules_between(tl.c, tr.c, norm(tl.ux), norm(tr.ux)) + 7.0;
    let along = modules_between(tl.c, bl.c, norm(tl.uy), norm(bl.uy)) + 7.0;
    let fitted = nearest_size((across + along) / 2.0);
    let mut sizes: Vec<usize> = Vec::new();
    let guesses = std::iter::once(fitted)
        .chain(cand.sizes.iter().copied())
        .chain([fitted + 4, fitted.saturating_sub(4)]);
    for s in guesses {
        if (21..=177).contains(&s) && !sizes.contains(&s) {
            sizes.push(s);
        }
    }
    sizes
}

/// Nearest valid symbol size (17 + 4·version, versions 1 to 40).
pub(crate) fn nearest_size(modules: f64) -> usize {
    let version = ((modules - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
    17 + 4 * version
}
