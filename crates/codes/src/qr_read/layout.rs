//! Which modules of a QR symbol are fixed by the standard (finder, separator,
//! timing and alignment patterns, the dark module). They are the ground truth
//! for aligning the grid to the photo and for learning how the blur mixes
//! neighbouring modules.

/// Known colour of a module: dark, light, or data (to be read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    Dark,
    Light,
    Unknown,
}

/// Function-pattern map of one symbol size.
pub(crate) struct Layout {
    pub size: usize,
    pub cells: Vec<Known>,
}

impl Layout {
    /// Layout for a symbol of `size` modules (21, 25, ... 177); `None` for
    /// other sizes.
    pub fn new(size: usize) -> Option<Self> {
        if !(21..=177).contains(&size) || !(size - 17).is_multiple_of(4) {
            return None;
        }
        let version = (size - 17) / 4;
        let mut cells = vec![Known::Unknown; size * size];
        let mut set = |x: usize, y: usize, k: Known| cells[y * size + x] = k;
        // Timing patterns (drawn first: finders overwrite their ends).
        for i in 0..size {
            let k = if i % 2 == 0 {
                Known::Dark
            } else {
                Known::Light
            };
            set(i, 6, k);
            set(6, i, k);
        }
        // Alignment patterns, except the three under the finders.
        let pos = alignment_positions(version);
        for &cy in &pos {
            for &cx in &pos {
                let near = |c: usize| c < 9;
                let far = |c: usize| c > size - 10;
                let under_finder = (near(cx) && (near(cy) || far(cy))) || (near(cy) && far(cx));
                if under_finder {
                    continue;
                }
                for dy in 0..5 {
                    for dx in 0..5 {
                        let ring = (dx as i32 - 2).abs().max((dy as i32 - 2).abs());
                        let k = if ring == 1 { Known::Light } else { Known::Dark };
                        set(cx + dx - 2, cy + dy - 2, k);
                    }
                }
            }
        }
        // Finders with their light separators.
        for (fx, fy) in [(0, 0), (size - 7, 0), (0, size - 7)] {
            for dy in -1i32..=7 {
                for dx in -1i32..=7 {
                    let (x, y) = (fx as i32 + dx, fy as i32 + dy);
                    if x < 0 || y < 0 || x >= size as i32 || y >= size as i32 {
                        continue;
                    }
                    let ring = (dx - 3).abs().max((dy - 3).abs());
                    let k = if ring == 2 || ring == 4 {
                        Known::Light
                    } else {
                        Known::Dark
                    };
                    set(x as usize, y as usize, k);
                }
            }
        }
        set(8, size - 8, Known::Dark);
        Some(Layout { size, cells })
    }

    /// Known colour at (x, y).
    #[cfg(test)]
    pub fn at(&self, x: usize, y: usize) -> Known {
        self.cells[y * self.size + x]
    }
}

/// Centre coordinates of alignment patterns for a version (ISO/IEC 18004
/// table E.1, computed the way Nayuki's reference encoder does).
pub(crate) fn alignment_positions(version: usize) -> Vec<usize> {
    if version < 2 {
        return Vec::new();
    }
    let n = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + n * 2 + 1) / (n * 2 - 2) * 2
    };
    let mut pos = vec![6; n];
    let mut p = version * 4 + 10;
    for slot in pos.iter_mut().skip(1).rev() {
        *slot = p;
        p -= step;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_table_matches_standard() {
        assert_eq!(alignment_positions(1), Vec::<usize>::new());
        assert_eq!(alignment_positions(2), vec![6, 18]);
        assert_eq!(alignment_positions(7), vec![6, 22, 38]);
        assert_eq!(alignment_positions(14), vec![6, 26, 46, 66]);
        assert_eq!(alignment_positions(17), vec![6, 30, 54, 78]);
        assert_eq!(alignment_positions(32), vec![6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_positions(40), vec![6, 30, 58, 86, 114, 142, 170]);
    }

    #[test]
    fn finder_corners_are_dark_and_separator_light() {
        let l = Layout::new(21).expect("valid size");
        assert_eq!(l.at(0, 0), Known::Dark);
        assert_eq!(l.at(7, 7), Known::Light);
        assert_eq!(l.at(3, 3), Known::Dark);
        assert_eq!(l.at(2, 3), Known::Dark);
        assert_eq!(l.at(1, 3), Known::Light);
        assert_eq!(l.at(10, 6), Known::Dark);
        assert_eq!(l.at(11, 6), Known::Light);
        assert_eq!(l.at(10, 10), Known::Unknown);
    }
}
