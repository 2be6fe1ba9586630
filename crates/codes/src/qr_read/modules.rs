//! Reading the module grid of an aligned symbol: sample every module on the
//! grey image, normalise levels locally (glare, vignetting), decide dark or
//! light — directly, then with the blur's spill from neighbouring modules
//! learnt from the symbol itself and subtracted (a small 2-D decision-feedback
//! equaliser) — and hand each decision to rqrr's Reed–Solomon decoder.

use rqrr::{Grid, SimpleGrid};

use super::deadline::Deadline;
use super::grey::Grey;
use super::homography::{Homography, Pt, grid_point};
use super::layout::{Known, Layout};

/// Radius, in modules, of the window levels are normalised over: wide
/// enough to hold both colours, narrow enough to follow glare. (Windows of
/// 2 and 8 were measured too and added nothing.)
const NORMALISE_RADIUS: usize = 4;

/// Equaliser rounds tried after the plain decisions. On the blurred fixtures
/// the equaliser turns 2 of 5 `stretch` images into 5 of 5.
const EQUALISER_ROUNDS: usize = 4;

/// Decode the symbol from its module samples: the plain decisions, then up
/// to [`EQUALISER_ROUNDS`] equalised ones, each tried by the decoder.
pub(crate) fn read(layout: &Layout, samples: &[f32], deadline: &Deadline) -> Option<String> {
    let level = normalise(samples, layout.size, NORMALISE_RADIUS);
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
    for _ in 0..EQUALISER_ROUNDS {
        if deadline.passed() || !equalise_step(layout, &level, &mut dark) {
            break;
        }
        if let Some(text) = try_decode(layout.size, &dark) {
            return Some(text);
        }
    }
    None
}

/// rqrr's format reading, unmasking and Reed–Solomon correction on our
/// decisions (it also tries the mirrored grid).
fn try_decode(size: usize, dark: &[bool]) -> Option<String> {
    let grid = Grid::new(SimpleGrid::from_func(size, |x, y| dark[y * size + x]));
    grid.decode().ok().map(|(_, text)| text)
}

/// Mean grey level of each module: centre plus four points a fifth of a
/// module away, which averages noise without reaching into neighbours.
pub(crate) fn sample(g: &Grey, size: usize, quad: &[Pt; 4]) -> Option<Vec<f32>> {
    let h = Homography::square_to_quad(quad)?;
    let mut out = Vec::with_capacity(size * size);
    const OFFSETS: [(f64, f64); 5] = [(0.5, 0.5), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)];
    for y in 0..size {
        for x in 0..size {
            let mut acc = 0.0;
            for (ox, oy) in OFFSETS {
                let (px, py) = grid_point(&h, size, x as f64 + ox, y as f64 + oy);
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
            let area = |t: &[f64]| {
                t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0]
                    + t[y0 * stride + x0]
            };
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
        let diag = d(dark, x - 1, y - 1)
            + d(dark, x + 1, y - 1)
            + d(dark, x - 1, y + 1)
            + d(dark, x + 1, y + 1);
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
        let pivot_row = m[col];
        for row in col + 1..4 {
            let k = m[row][col] / pivot_row[col];
            for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= k * p;
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

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::{Color, EcLevel, QrCode};

    /// Module levels as a blur leaves them: each sample mixes its module
    /// with its 8 neighbours (outside the symbol is light).
    fn smeared(code: &QrCode, own: f32, cross: f32, diag: f32) -> Vec<f32> {
        let n = code.width() as isize;
        let colors = code.to_colors();
        let light = |x: isize, y: isize| -> f32 {
            if x < 0 || y < 0 || x >= n || y >= n {
                return 1.0;
            }
            if colors[(y * n + x) as usize] == Color::Dark {
                0.0
            } else {
                1.0
            }
        };
        (0..n * n)
            .map(|i| {
                let (x, y) = (i % n, i / n);
                let c = light(x - 1, y) + light(x + 1, y) + light(x, y - 1) + light(x, y + 1);
                let d = light(x - 1, y - 1)
                    + light(x + 1, y - 1)
                    + light(x - 1, y + 1)
                    + light(x + 1, y + 1);
                40.0 + 180.0 * (own * light(x, y) + cross * c + diag * d)
            })
            .collect()
    }

    #[test]
    fn equaliser_reads_what_plain_thresholding_cannot() {
        let text = "CQ1.equaliser-test.0123456789abcdefghijklmnopqrstuvwxyz";
        let code = QrCode::with_error_correction_level(text, EcLevel::M).expect("fits");
        let layout = Layout::new(code.width()).expect("valid size");
        // Heavy blur: the module itself is only a third of what is seen.
        let samples = smeared(&code, 0.34, 0.125, 0.04);
        let level = normalise(&samples, layout.size, NORMALISE_RADIUS);
        let plain: Vec<bool> = level.iter().map(|&l| l > 0.0).collect();
        assert_eq!(
            try_decode(layout.size, &plain),
            None,
            "plain decisions should fail"
        );
        let deadline = Deadline::after(std::time::Duration::from_secs(10));
        assert_eq!(read(&layout, &samples, &deadline).as_deref(), Some(text));
    }
}
