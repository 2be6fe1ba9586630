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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_square_on_light_is_dark_and_flat_areas_are_light() {
        let (w, h) = (40, 30);
        let px = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (10..20).contains(&x) && (10..20).contains(&y) { 20 } else { 200 }
            })
            .collect();
        let b = adaptive(&Grey { w, h, px }, 8, 3);
        assert!(b.dark[15 * w + 15]);
        assert!(!b.dark[2 * w + 2]);
        assert!(!b.dark[25 * w + 35]);
    }
}
