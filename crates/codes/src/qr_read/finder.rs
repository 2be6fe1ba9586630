//! Our own finder-pattern search (the 1:1:3:1:1 run test of ISO/IEC 18004
//! §12, with vertical and horizontal cross-checks) and the grouping of
//! three finders into a symbol.
//!
//! rqrr finds finders well but accepts a group only when its timing scan and
//! alignment-pattern search succeed on the binary image, which blur and small
//! modules defeat. Here a group needs only plausible geometry; whether it is
//! a symbol, and its size, are settled on the grey image by the resampler.

use super::binarize::Bitmap;
use super::candidate::Candidate;
use super::resample::nearest_size;

/// A finder pattern centre with its estimated module pitch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Finder {
    pub x: f64,
    pub y: f64,
    pub module: f64,
    /// Number of scan lines that confirmed it (evidence).
    pub hits: u32,
}

/// Ratio test for five runs dark-light-dark-light-dark (1:1:3:1:1).
///
/// Blur moves every dark/light edge by the same amount one way, which
/// thins the one-module dark ring and fattens the light one and so breaks
/// the plain run ratios. Distances between edges of the same polarity (the
/// sums of two neighbouring runs) do not move: they must be 2:4:4:2
/// modules. Returns the module pitch.
fn ratios_ok(runs: &[usize; 5]) -> Option<f64> {
    let r = runs.map(|v| v as f64);
    let pairs = [r[0] + r[1], r[1] + r[2], r[2] + r[3], r[3] + r[4]];
    let m = pairs.iter().sum::<f64>() / 12.0;
    if m < 1.0 {
        return None;
    }
    let expect = [2.0, 4.0, 4.0, 2.0];
    let pairs_ok = pairs
        .iter()
        .zip(expect)
        .all(|(&p, e)| (p - e * m).abs() < m * 0.75 * e.sqrt());
    // The core is the widest run and the pattern is roughly symmetric.
    let shape_ok = r[2] > r[1].max(r[3])
        && r[2] > r[0].max(r[4])
        && r[0].max(r[4]) <= 2.5 * r[0].min(r[4])
        && r[1].max(r[3]) <= 2.5 * r[1].min(r[3]);
    (pairs_ok && shape_ok).then_some(m)
}

/// Re-measure a candidate along one axis through (x, y): the five runs
/// around the dark run containing (x, y), each at most `max_run` long, must
/// pass the ratio test. Returns the centre coordinate on that axis and the
/// module pitch.
fn cross_check(
    b: &Bitmap,
    x: usize,
    y: usize,
    vertical: bool,
    max_run: usize,
) -> Option<(f64, f64)> {
    let len = if vertical { b.h } else { b.w };
    let at = |i: usize| -> bool {
        if vertical {
            b.dark[i * b.w + x]
        } else {
            b.dark[y * b.w + i]
        }
    };
    let pos = if vertical { y } else { x };
    if !at(pos) {
        return None;
    }
    // Walk backwards: dark (centre), light, dark.
    let mut runs = [0usize; 5];
    let mut i = pos as isize;
    for (slot, want_dark) in [(2usize, true), (1, false), (0, true)] {
        while i >= 0 && at(i as usize) == want_dark && runs[slot] <= max_run {
            runs[slot] += 1;
            i -= 1;
        }
        if runs[slot] == 0 || runs[slot] > max_run {
            return None;
        }
    }
    let start = (i + 1) as usize;
    let mut j = pos + 1;
    for (slot, want_dark) in [(2usize, true), (3, false), (4, true)] {
        while j < len && at(j) == want_dark && runs[slot] <= max_run {
            runs[slot] += 1;
            j += 1;
        }
        if (slot != 2 && runs[slot] == 0) || runs[slot] > max_run {
            return None;
        }
    }
    let m = ratios_ok(&runs)?;
    let centre = start as f64 + runs[0] as f64 + runs[1] as f64 + runs[2] as f64 / 2.0;
    Some((centre, m))
}

/// All finder patterns in a bitmap, merged across scan lines.
pub(crate) fn find_finders(b: &Bitmap) -> Vec<Finder> {
    let mut found: Vec<Finder> = Vec::new();
    let max_module = (b.w.min(b.h) / 21).max(1);
    for y in 0..b.h {
        let row = &b.dark[y * b.w..(y + 1) * b.w];
        // Run lengths of the last five runs, the last one being the current.
        let mut runs = [0usize; 5];
        let mut filled = 0usize;
        let mut x = 0;
        while x < b.w {
            let dark = row[x];
            let mut end = x;
            while end < b.w && row[end] == dark {
                end += 1;
            }
            let len = end - x;
            runs.rotate_left(1);
            runs[4] = len;
            filled += 1;
            // A candidate ends on a dark run preceded by four runs.
            if dark
                && filled >= 5
                && let Some(m) = ratios_ok(&runs)
            {
                let cx = x as f64 - runs[3] as f64 - runs[2] as f64 / 2.0;
                consider(b, cx, y, m, max_module, &mut found);
            }
            x = end;
        }
    }
    found
}

/// Confirm a row candidate across (vertical) and along (horizontal) and
/// merge it with an earlier detection of the same pattern.
fn consider(b: &Bitmap, cx: f64, y: usize, m: f64, max_module: usize, found: &mut Vec<Finder>) {
    let max_run = ((m * 3.0 * 1.6).ceil() as usize).clamp(2, max_module * 4);
    let xi = cx as usize;
    if xi >= b.w {
        return;
    }
    let Some((cy, mv)) = cross_check(b, xi, y, true, max_run) else {
        return;
    };
    let yi = cy as usize;
    if yi >= b.h {
        return;
    }
    let Some((cx2, mh)) = cross_check(b, xi, yi, false, max_run) else {
        return;
    };
    // Horizontal and vertical pitch agree (perspective allows some skew).
    if mh.max(mv) > 1.8 * mh.min(mv) {
        return;
    }
    let module = (m + mv + mh) / 3.0;
    if let Some(f) = found.iter_mut().find(|f| {
        (f.x - cx2).abs() < f.module.max(module) * 1.5
            && (f.y - cy).abs() < f.module.max(module) * 1.5
    }) {
        let n = f.hits as f64;
        f.x = (f.x * n + cx2) / (n + 1.0);
        f.y = (f.y * n + cy) / (n + 1.0);
        f.module = (f.module * n + module) / (n + 1.0);
        f.hits += 1;
    } else {
        found.push(Finder {
            x: cx2,
            y: cy,
            module,
            hits: 1,
        });
    }
}

/// Finders (most confirmed first) combined into triples: enough for a code
/// among busy texture, few enough that C(n, 3) geometry checks stay cheap.
const MAX_FINDERS: usize = 20;

/// Most triples handed on per bitmap. Each costs a few finder fits on the
/// grey image (cached per finder), so a busy picture with many false
/// finders can still afford to try the right combination.
const MAX_TRIPLES: usize = 24;

/// Candidate symbols from finder triples, best evidence first, with the
/// size implied by finder distance and pitch. Coordinates are the bitmap's.
pub(crate) fn group(finders: &[Finder]) -> Vec<Candidate> {
    let mut strong: Vec<Finder> = finders.iter().copied().filter(|f| f.hits >= 2).collect();
    strong.sort_by_key(|f| std::cmp::Reverse(f.hits));
    strong.truncate(MAX_FINDERS);
    let mut triples: Vec<(f64, Candidate)> = Vec::new();
    for i in 0..strong.len() {
        for j in i + 1..strong.len() {
            for k in j + 1..strong.len() {
                if let Some(t) = triple([strong[i], strong[j], strong[k]]) {
                    triples.push(t);
                }
            }
        }
    }
    triples.sort_by(|a, b| b.0.total_cmp(&a.0));
    triples.truncate(MAX_TRIPLES);
    triples.into_iter().map(|t| t.1).collect()
}

/// Geometry check of three finders; returns (plausibility, candidate).
fn triple(f: [Finder; 3]) -> Option<(f64, Candidate)> {
    let (mmin, mmax) = f.iter().fold((f64::MAX, 0.0f64), |(lo, hi), x| {
        (lo.min(x.module), hi.max(x.module))
    });
    if mmax > 2.5 * mmin {
        return None;
    }
    let d = |a: &Finder, b: &Finder| (a.x - b.x).hypot(a.y - b.y);
    // The corner finder is opposite the longest side.
    let sides = [d(&f[1], &f[2]), d(&f[0], &f[2]), d(&f[0], &f[1])];
    let corner = (0..3).max_by(|&a, &b| sides[a].total_cmp(&sides[b]))?;
    let tl = f[corner];
    let (mut p, mut q) = (f[(corner + 1) % 3], f[(corner + 2) % 3]);
    let (v1, v2) = ((p.x - tl.x, p.y - tl.y), (q.x - tl.x, q.y - tl.y));
    let (l1, l2) = (v1.0.hypot(v1.1), v2.0.hypot(v2.1));
    if l1.max(l2) > 2.5 * l1.min(l2) {
        return None;
    }
    let cos = (v1.0 * v2.0 + v1.1 * v2.1) / (l1 * l2);
    if cos.abs() > 0.6 {
        return None;
    }
    // Image y points down: top-right × bottom-left is positive.
    if v1.0 * v2.1 - v1.1 * v2.0 < 0.0 {
        std::mem::swap(&mut p, &mut q);
    }
    let module = (tl.module + p.module + q.module) / 3.0;
    let dim = (l1 + l2) / 2.0 / module + 7.0;
    if !(19.0..=181.0).contains(&dim) {
        return None;
    }
    let candidate = Candidate {
        tl: (tl.x, tl.y),
        tr: (p.x, p.y),
        bl: (q.x, q.y),
        fourth: None,
        module: tl.module,
        sizes: vec![nearest_size(dim)],
    };
    // Many confirming scan lines, a right angle, equal sides, equal pitch.
    let evidence = (tl.hits.min(p.hits).min(q.hits)) as f64
        * (1.0 - cos.abs())
        * (l1.min(l2) / l1.max(l2))
        * (mmin / mmax);
    Some((evidence, candidate))
}
