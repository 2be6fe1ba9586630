//! Reading a located grid from the grey image instead of rqrr's binary image.
//!
//! rqrr samples one pixel per module from its own thresholded picture, which
//! loses small modules under blur: a lone dark module between light ones is
//! only a faint dip. Here the grid position is refined against the known
//! function patterns on the grey image, every module is sampled there, levels
//! are normalised locally (glare), and the blur's mixing of neighbouring
//! modules is learnt from the symbol itself and subtracted (a small 2-D
//! decision-feedback equaliser) before rqrr's Reed–Solomon decoder runs.

use rqrr::{Grid, SimpleGrid};

use super::deadline::Deadline;
use super::grey::Grey;
use super::homography::{Homography, Pt};
use super::layout::{Known, Layout};
use super::candidate::Candidate;
use super::finder_fit::{self, modules_between, norm};
use super::perspective;
use super::timing;

/// Finder template correlation below which a detected "finder" is texture
/// (data modules, text) rather than a finder pattern.
const MIN_FINDER_SCORE: f32 = 0.45;

/// Try to decode a candidate symbol (in `g`'s coordinates): fit its three
/// finders on the grey image, derive the module count and the perspective
/// from them (cross-checked by counting timing modules), align each size
/// hypothesis, drop those that do not look like a QR symbol, then polish and
/// read the best two.
pub(crate) fn decode(g: &Grey, cand: &Candidate, deadline: &Deadline) -> Option<String> {
    let (right, down) = cand.module_vectors();
    let tl = finder_fit::fit(g, cand.tl, right, down);
    let tr = finder_fit::fit(g, cand.tr, right, down);
    let bl = finder_fit::fit(g, cand.bl, right, down);
    let debug = std::env::var("QR_DEBUG").is_ok();
    if debug { eprintln!("  fits {:.2} {:.2} {:.2}", tl.score, tr.score, bl.score); }
    if tl.score.min(tr.score).min(bl.score) < MIN_FINDER_SCORE {
        return None;
    }
    let cand = Candidate {
        tl: tl.c,
        tr: tr.c,
        bl: bl.c,
        module: (norm(tl.ux) + norm(tl.uy)) / 2.0,
        ..cand.clone()
    };
    let across = modules_between(tl.c, tr.c, norm(tl.ux), norm(tr.ux)) + 7.0;
    let along = modules_between(tl.c, bl.c, norm(tl.uy), norm(bl.uy)) + 7.0;
    let (right, down) = cand.module_vectors();
    let timing_across = timing::count_size(g, cand.tl, cand.tr, down, cand.module);
    let timing_along = timing::count_size(g, cand.tl, cand.bl, right, cand.module);
    let fitted = timing::round_to_version(((across + along) / 2.0).round().max(21.0) as usize);
    let mut sizes: Vec<usize> = Vec::new();
    let guesses = [Some(fitted), timing_across, timing_along]
        .into_iter()
        .flatten()
        .chain(cand.sizes.iter().copied())
        .chain([fitted + 4, fitted.saturating_sub(4)]);
    for s in guesses {
        if (21..=177).contains(&s) && !sizes.contains(&s) {
            sizes.push(s);
        }
    }
    if debug { eprintln!("  sizes fitted {across:.1} {along:.1} timing {timing_across:?} {timing_along:?} detector {:?}", cand.sizes); }
    let mut placed: Vec<(f32, Template, [Pt; 4])> = Vec::new();
    for size in sizes {
        if deadline.passed() {
            return None;
        }
        let Some(layout) = Layout::new(size) else {
            continue;
        };
        let template = Template::new(layout);
        let t0 = std::time::Instant::now();
        let predicted = perspective::predict_fourth(&tl, &tr, &bl, size);
        let mut placement = place_fourth(g, &template, &cand, &[predicted], 6);
        if placement.is_none_or(|p| p.1 < GOOD_SYMBOL_SCORE) {
            // The finders' vectors were not precise enough: search widely.
            let mut starts = vec![cand.parallelogram()];
            starts.extend(cand.fourth);
            let wide = place_fourth(g, &template, &cand, &starts, fourth_search_radius(size));
            if wide.is_some_and(|w| placement.is_none_or(|p| w.1 > p.1)) {
                placement = wide;
            }
        }
        let Some((quad, score)) = placement else {
            continue;
        };
        if debug { eprintln!("  align {} score {score} {:?}", size, t0.elapsed()); }
        placed.push((score, template, quad));
    }
    placed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (score, template, quad) in placed.into_iter().take(2).filter(|p| p.0 >= MIN_SYMBOL_SCORE) {
        if deadline.passed() {
            return None;
        }
        let (quad, _) = polish(g, &template, quad, score);
        let layout = &template.layout;
        let samples = sample_modules(g, layout.size, &quad)?;
        if debug {
            eprintln!("  resample size {} -> {:?}", layout.size, quad);
            dump(layout, &samples);
        }
        let t0 = std::time::Instant::now();
        let r = read_levels(layout, &samples, deadline);
        if debug { eprintln!("  read {:?}", t0.elapsed()); }
        if let Some(text) = r {
            if std::env::var("QR_DEBUG3").is_ok() { eprintln!("  SUCCESS size {} score {score}", layout.size); }
            return Some(text);
        }
    }
    None
}

/// Module-level reading: local normalisation, then decisions with and
/// without equalisation, each given to the decoder.
fn read_levels(layout: &Layout, samples: &[f32], deadline: &Deadline) -> Option<String> {
    for radius in [4, 2, 8] {
        let level = normalise(samples, layout.size, radius);
        let mut dark: Vec<bool> = (0..level.len())
            .map(|i| match layout.cells[i] {
                Known::Dark => true,
                Known::Light => false,
                Known::Unknown => level[i] > 0.0,
            })
            .collect();
        if let Some(text) = try_decode(layout.size, &dark) {
            return Some(text);
        }
        for _ in 0..4 {
            if deadline.passed() || !equalise_step(layout, &level, &mut dark) {
                break;
            }
            if let Some(text) = try_decode(layout.size, &dark) {
                return Some(text);
            }
        }
    }
    None
}

fn try_decode(size: usize, dark: &[bool]) -> Option<String> {
    let grid = Grid::new(SimpleGrid::from_func(size, |x, y| dark[y * size + x]));
    grid.decode().ok().map(|(_, text)| text)
}

/// The grid point of module centre (x + 0.5, y + 0.5) in the image.
fn module_map(h: &Homography, size: usize, x: f64, y: f64) -> Pt {
    let n = size as f64;
    h.map(x / n, y / n)
}

/// Template correlation below which a placement is not a QR symbol (random
/// texture scores under 0.15; real symbols, even blurred and at an angle,
/// score over 0.6), so reading it would only waste time.
const MIN_SYMBOL_SCORE: f32 = 0.3;

/// Template correlation of a clearly aligned symbol; below it the wide
/// search for the fourth corner runs.
const GOOD_SYMBOL_SCORE: f32 = 0.55;

/// How far (in modules) the fourth finder centre is searched from each
/// guess: a quarter of the symbol, 14 to 24 modules, which covers a code
/// photographed about 40° off-axis.
fn fourth_search_radius(size: usize) -> i32 {
    ((size / 4) as i32).clamp(14, 24) & !1
}

/// Alignment stage 1. The three finder centres are reliable but where the
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

/// Alignment stage 2: move every corner by coordinate descent with steps
/// shrinking from one module to 1/64, fixing the rounding of rqrr's
/// integer corners and the bias of a binarisation.
fn polish(g: &Grey, template: &Template, quad: [Pt; 4], score: f32) -> ([Pt; 4], f32) {
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
struct Template {
    layout: Layout,
    size: usize,
    cells: Vec<(f64, f64, f32)>,
    sign_sum: f32,
}

impl Template {
    fn new(layout: Layout) -> Self {
        Self::with_cells(layout, |_, _| true)
    }

    /// Only the three finders and their separators: they depend on the
    /// three measured centres alone, so they vet a candidate before the
    /// costly search for the fourth corner.
    fn finders(layout: Layout) -> Self {
        let n = layout.size;
        Self::with_cells(layout, move |x, y| (x < 8 || x + 8 >= n) && (y < 8 || (x < 8 && y + 8 >= n)))
    }

    fn with_cells(layout: Layout, keep: impl Fn(usize, usize) -> bool) -> Self {
        let n = layout.size;
        let cells: Vec<(f64, f64, f32)> = (0..n * n)
            .filter(|&i| keep(i % n, i / n))
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
    fn score(&self, g: &Grey, quad: &[Pt; 4]) -> f32 {
        let Some(h) = Homography::square_to_quad(quad) else {
            return f32::MIN;
        };
        let (mut sum, mut sum_sq, mut cross) = (0.0f32, 0.0f32, 0.0f32);
        for &(x, y, sign) in &self.cells {
            let (px, py) = module_map(&h, self.size, x, y);
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

/// Mean grey level of each module: centre plus four points a fifth of a
/// module away, which averages noise without reaching into neighbours.
fn sample_modules(g: &Grey, size: usize, quad: &[Pt; 4]) -> Option<Vec<f32>> {
    let h = Homography::square_to_quad(quad)?;
    let mut out = Vec::with_capacity(size * size);
    const OFFSETS: [(f64, f64); 5] = [(0.5, 0.5), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)];
    for y in 0..size {
        for x in 0..size {
            let mut acc = 0.0;
            for (ox, oy) in OFFSETS {
                let (px, py) = module_map(&h, size, x as f64 + ox, y as f64 + oy);
                acc += g.sample(px as f32, py as f32);
            }
            out.push(acc / OFFSETS.len() as f32);
        }
    }
    Some(out)
}

/// Darkness relative to the neighbourhood: (local mean − value) / local
/// spread over a (2r+1)² module window. Positive means darker than around.
/// Removes the slow brightness changes of glare and vignetting.
fn normalise(samples: &[f32], size: usize, r: usize) -> Vec<f32> {
    let stride = size + 1;
    let mut s1 = vec![0.0f64; stride * stride];
    let mut s2 = vec![0.0f64; stride * stride];
    for y in 0..size {
        for x in 0..size {
            let v = samples[y * size + x] as f64;
            let i = (y + 1) * stride + x + 1;
            s1[i] = v + s1[i - 1] + s1[i - stride] - s1[i - stride - 1];
            s2[i] = v * v + s2[i - 1] + s2[i - stride] - s2[i - stride - 1];
        }
    }
    let mut out = Vec::with_capacity(size * size);
    for y in 0..size {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(size));
        for x in 0..size {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(size));
            let area = |t: &[f64]| t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0] + t[y0 * stride + x0];
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            let mean = area(&s1) / n;
            let var = (area(&s2) / n - mean * mean).max(1.0);
            out.push(((mean - samples[y * size + x] as f64) / var.sqrt()) as f32);
        }
    }
    out
}

/// One equaliser step. Fits `level ≈ a + b·d + c·Σ(4 neighbours) + e·Σ(4
/// diagonals)` with d = ±1 from the current decisions (least squares over the
/// whole symbol; outside is light quiet zone), then re-decides every data
/// module after removing its neighbours' estimated spill. Returns false when
/// the fit is meaningless (no positive own-module weight) or nothing changed.
fn equalise_step(layout: &Layout, level: &[f32], dark: &mut [bool]) -> bool {
    let n = layout.size;
    let d = |dark: &[bool], x: isize, y: isize| -> f64 {
        if x < 0 || y < 0 || x >= n as isize || y >= n as isize {
            -1.0
        } else if dark[y as usize * n + x as usize] {
            1.0
        } else {
            -1.0
        }
    };
    let features = |dark: &[bool], i: usize| -> [f64; 4] {
        let (x, y) = ((i % n) as isize, (i / n) as isize);
        let own = d(dark, x, y);
        let cross = d(dark, x - 1, y) + d(dark, x + 1, y) + d(dark, x, y - 1) + d(dark, x, y + 1);
        let diag = d(dark, x - 1, y - 1) + d(dark, x + 1, y - 1) + d(dark, x - 1, y + 1) + d(dark, x + 1, y + 1);
        [1.0, own, cross, diag]
    };
    let mut ata = [[0.0f64; 4]; 4];
    let mut atb = [0.0f64; 4];
    for (i, &lv) in level.iter().enumerate() {
        let f = features(dark, i);
        for r in 0..4 {
            for c in 0..4 {
                ata[r][c] += f[r] * f[c];
            }
            atb[r] += f[r] * lv as f64;
        }
    }
    let Some([a, b, c, e]) = solve4(ata, atb) else {
        return false;
    };
    if b <= 0.0 {
        return false;
    }
    let previous = dark.to_vec();
    let mut changed = false;
    for i in 0..level.len() {
        if layout.cells[i] != Known::Unknown {
            continue;
        }
        let f = features(&previous, i);
        let residual = level[i] as f64 - a - c * f[2] - e * f[3];
        let now = residual > 0.0;
        changed |= now != dark[i];
        dark[i] = now;
    }
    changed
}

/// Solve a 4×4 linear system by Gaussian elimination with partial pivoting.
fn solve4(mut m: [[f64; 4]; 4], mut v: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let pivot = (col..4).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-9 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in col + 1..4 {
            let k = m[row][col] / m[col][col];
            for c in col..4 {
                m[row][c] -= k * m[col][c];
            }
            v[row] -= k * v[col];
        }
    }
    let mut x = [0.0f64; 4];
    for row in (0..4).rev() {
        let s: f64 = (row + 1..4).map(|c| m[row][c] * x[c]).sum();
        x[row] = (v[row] - s) / m[row][row];
    }
    Some(x)
}

fn dump(layout: &Layout, samples: &[f32]) {
    let n = layout.size;
    let level = normalise(samples, n, 4);
    let mut img = image::GrayImage::new(n as u32 * 3, n as u32);
    for y in 0..n {
        for x in 0..n {
            let v = samples[y * n + x].clamp(0.0, 255.0) as u8;
            img.put_pixel(x as u32, y as u32, image::Luma([v]));
            let l = ((level[y * n + x] * -60.0) + 128.0).clamp(0.0, 255.0) as u8;
            img.put_pixel(x as u32 + n as u32, y as u32, image::Luma([l]));
            let k = match layout.cells[y*n+x] { Known::Dark => 0, Known::Light => 255, Known::Unknown => 128 };
            img.put_pixel(x as u32 + 2 * n as u32, y as u32, image::Luma([k]));
        }
    }
    let path = format!("/tmp/qrv/grid_{}.png", n);
    if !std::path::Path::new(&path).exists() { let _ = img.save(path); }
}
