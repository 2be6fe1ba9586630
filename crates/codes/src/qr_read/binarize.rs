//! Local (adaptive) thresholding. rqrr's own binariser averages along rows
//! only, which breaks under glare and vignetting; a 2-D window mean follows
//! uneven light in both directions.

use super::grey::Grey;

/// Dark/light decision per pixel (`true` = dark).
pub(crate) struct Bitmap {
    pub w: usize,
    pub h: usize,
    pub dark: Vec<bool>,
}

/// A pixel is dark when it is below the mean of its (2r+1)² neighbourhood
/// (clipped at the borders) by more than `bias` grey levels. The bias keeps
/// flat areas (paper, screen background) from turning into noise that looks
/// like finder patterns.
///
/// Column sums are slid down the image and a row window slid across them,
/// so the cost is O(pixels) whatever `r`, with row-order memory access
/// (12-megapixel photos); the comparison is done on sums, without division.
pub(crate) fn adaptive(g: &Grey, r: usize, bias: u8) -> Bitmap {
    let (w, h) = (g.w, g.h);
    let mut dark = vec![false; w * h];
    if w == 0 || h == 0 {
        return Bitmap { w, h, dark };
    }
    let row = |y: usize| &g.px[y * w..(y + 1) * w];
    // Column sums over rows lo..=hi of the current window.
    let mut col = vec![0u32; w];
    let mut hi = r.min(h - 1);
    for y in 0..=hi {
        for (c, &v) in col.iter_mut().zip(row(y)) {
            *c += v as u32;
        }
    }
    let mut lo = 0usize;
    let bias = bias as u64;
    for y in 0..h {
        let want_lo = y.saturating_sub(r);
        let want_hi = (y + r).min(h - 1);
        while hi < want_hi {
            hi += 1;
            for (c, &v) in col.iter_mut().zip(row(hi)) {
                *c += v as u32;
            }
        }
        while lo < want_lo {
            for (c, &v) in col.iter_mut().zip(row(lo)) {
                *c -= v as u32;
            }
            lo += 1;
        }
        let rows = (hi - lo + 1) as u64;
        // Slide a horizontal window over the column sums.
        let mut sum: u64 = col[..=r.min(w - 1)].iter().map(|&c| c as u64).sum();
        let (mut x_lo, mut x_hi) = (0usize, r.min(w - 1));
        let out = &mut dark[y * w..(y + 1) * w];
        for (x, (&v, d)) in row(y).iter().zip(out.iter_mut()).enumerate() {
            let want_x_lo = x.saturating_sub(r);
            let want_x_hi = (x + r).min(w - 1);
            while x_hi < want_x_hi {
                x_hi += 1;
                sum += col[x_hi] as u64;
            }
            while x_lo < want_x_lo {
                sum -= col[x_lo] as u64;
                x_lo += 1;
            }
            let area = rows * (x_hi - x_lo + 1) as u64;
            *d = (v as u64 + bias) * area < sum;
        }
    }
    Bitmap { w, h, dark }
}

/// Global threshold between the two brightest of three grey classes
/// (three-class Otsu). A dim code printed or shown on a light patch in a
/// dark scene has three populations: background, ink, paper. Any window
/// that reaches the background drags a local mean below the ink, so the
/// code disappears in local thresholding; this threshold separates ink
/// from paper directly.
pub(crate) fn upper_otsu(g: &Grey) -> Bitmap {
    let mut hist = [0f64; 256];
    for &v in &g.px {
        hist[v as usize] += 1.0;
    }
    // Prefix sums of counts and grey mass for O(1) class statistics.
    let mut count = [0f64; 257];
    let mut mass = [0f64; 257];
    for v in 0..256 {
        count[v + 1] = count[v] + hist[v];
        mass[v + 1] = mass[v] + hist[v] * v as f64;
    }
    let class = |lo: usize, hi: usize| {
        let n = count[hi] - count[lo];
        let m = mass[hi] - mass[lo];
        if n > 0.0 { m * m / n } else { 0.0 }
    };
    // Maximise the between-class variance over two cuts t1 < t2 (classes
    // [0, t1), [t1, t2), [t2, 256)), on a coarse step for speed.
    let (mut best, mut t2_best) = (f64::MIN, 128usize);
    for t1 in (1..255).step_by(2) {
        for t2 in (t1 + 2..256).step_by(2) {
            let score = class(0, t1) + class(t1, t2) + class(t2, 256);
            if score > best {
                best = score;
                t2_best = t2;
            }
        }
    }
    let dark = g.px.iter().map(|&v| (v as usize) < t2_best).collect();
    Bitmap {
        w: g.w,
        h: g.h,
        dark,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_square_on_light_is_dark_and_flat_areas_are_light() {
        let (w, h) = (40, 30);
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (10..20).contains(&x) && (10..20).contains(&y) {
                    20
                } else {
                    200
                }
            })
            .collect();
        let b = adaptive(&Grey { w, h, px }, 8, 3);
        assert!(b.dark[15 * w + 15]);
        assert!(!b.dark[2 * w + 2]);
        assert!(!b.dark[25 * w + 35]);
    }

    #[test]
    fn upper_otsu_separates_dim_ink_from_paper_in_a_dark_scene() {
        // Dark background, a light patch, dim ink on the patch.
        let (w, h) = (60, 60);
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let on_patch = (20..50).contains(&x) && (20..50).contains(&y);
                let ink = on_patch && (x / 3 + y / 3) % 2 == 0;
                if ink {
                    170
                } else if on_patch {
                    235
                } else {
                    50
                }
            })
            .collect();
        let b = upper_otsu(&Grey { w, h, px });
        assert!(b.dark[21 * w + 21], "ink");
        assert!(!b.dark[21 * w + 24], "paper");
        assert!(b.dark[5 * w + 5], "background");
    }
}
