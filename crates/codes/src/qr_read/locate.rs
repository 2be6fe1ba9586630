//! Finding candidate symbols with rqrr: its finder-pattern search and
//! grouping on a binary image, then its own decode of each grid. Grids that
//! fail to decode are still returned, with their corners, for resampling.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rqrr::{BitGrid, Grid, PreparedImage};

use super::binarize::Bitmap;
use super::grey::Grey;
use super::homography::{Homography, Pt};

/// A grid rqrr located.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    /// Image points of the symbol's corners (grid coordinates (0,0), (n,0),
    /// (n,n), (0,n)), top-left finder first, in the coordinates of the image
    /// searched.
    pub quad: [Pt; 4],
    /// Modules per side as rqrr measured it from the timing pattern.
    pub size: usize,
    /// rqrr's own decode, when it succeeded.
    pub text: Option<String>,
}

/// rqrr's whole pipeline, including its own row-average binarisation.
pub(crate) fn find_native(g: &Grey) -> Vec<Found> {
    guarded(|| {
        let mut img = PreparedImage::prepare_from_greyscale(g.w, g.h, |x, y| g.px[y * g.w + x]);
        collect(img.detect_grids())
    })
}

/// rqrr's search on a bitmap we binarised ourselves.
pub(crate) fn find_in_bitmap(b: &Bitmap) -> Vec<Found> {
    guarded(|| {
        let mut img = PreparedImage::prepare_from_bitmap(b.w, b.h, |x, y| b.dark[y * b.w + x]);
        collect(img.detect_grids())
    })
}

/// rqrr asserts on some degenerate geometry (e.g. a timing scan with no
/// transition); a hostile upload must cost a failed attempt, not a panic in
/// the request.
fn guarded(f: impl FnOnce() -> Vec<Found>) -> Vec<Found> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_default()
}

fn collect<G: BitGrid>(grids: Vec<Grid<G>>) -> Vec<Found> {
    grids
        .into_iter()
        .filter_map(|grid| {
            let size = grid.grid.size();
            let text = grid.decode().ok().map(|(_, text)| text);
            // rqrr's bounds are the images of grid coordinates 0 and size+1.
            let b = grid.bounds.map(|p| (p.x as f64, p.y as f64));
            let h = Homography::square_to_quad(&b)?;
            let t = size as f64 / (size as f64 + 1.0);
            let quad = [h.map(0.0, 0.0), h.map(t, 0.0), h.map(t, t), h.map(0.0, t)];
            Some(Found { quad, size, text })
        })
        .collect()
}
