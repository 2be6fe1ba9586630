//! Horizontal lines of the face (mouth, chin) from projection profiles in the
//! canonical frame: averaging a band of columns along each row turns the face's horizontal
//! structures into peaks of a 1-D signal, which is robust to noise and small misalignment.

use super::canonical::{Canonical, IPD};
use super::sample::Plane;

/// Mean of `f(x, y)` over the columns u0..u1 (IPD units) for each row v0..v1.
/// Returns (v of each row, value).
fn profile(
    plane: &Plane,
    (u0, u1): (f64, f64),
    (v0, v1): (f64, f64),
    f: impl Fn(&Plane, usize, usize) -> f32,
) -> Vec<(f64, f64)> {
    let (x0, y0) = Canonical::px(u0, v0);
    let (x1, y1) = Canonical::px(u1, v1);
    let clamp_x = |x: f64| (x.round().max(2.0) as usize).min(plane.width - 3);
    let clamp_y = |y: f64| (y.round().max(2.0) as usize).min(plane.height - 3);
    let (x0, x1, y0, y1) = (clamp_x(x0), clamp_x(x1), clamp_y(y0), clamp_y(y1));
    (y0..=y1)
        .map(|y| {
            let sum: f32 = (x0..=x1).map(|x| f(plane, x, y)).sum();
            let v = (y as f64 - super::canonical::EYE_Y) / IPD;
            (v, f64::from(sum) / (x1 - x0 + 1) as f64)
        })
        .collect()
}

/// Moving average over `radius` rows each side.
fn smooth(values: &[(f64, f64)], radius: usize) -> Vec<(f64, f64)> {
    (0..values.len())
        .map(|i| {
            let a = i.saturating_sub(radius);
            let b = (i + radius + 1).min(values.len());
            let mean = values[a..b].iter().map(|p| p.1).sum::<f64>() / (b - a) as f64;
            (values[i].0, mean)
        })
        .collect()
}

fn argmax(values: &[(f64, f64)]) -> Option<(f64, f64)> {
    values.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Vertical gradient magnitude, |I(y+1) − I(y−1)| / 2.
fn vertical_edge(p: &Plane, x: usize, y: usize) -> f32 {
    (p.at(x, y + 1) - p.at(x, y - 1)).abs() / 2.0
}

/// The mouth line: the strongest band of horizontal edges between the nose and the chin
/// (lip boundaries; for an open smile, the teeth's edges). v in IPD units below the eyes.
pub fn mouth_line(face: &Canonical) -> Option<f64> {
    let raw = profile(&face.plane, (-0.35, 0.35), (0.75, 1.6), vertical_edge);
    let smoothed = smooth(&raw, (0.05 * IPD) as usize);
    let (peak_v, peak) = argmax(&smoothed)?;
    // Centre of mass of the peak region, so that an open mouth's two lips give its middle.
    let (mut sum_v, mut sum_w) = (0.0, 0.0);
    for &(v, e) in &smoothed {
        if (v - peak_v).abs() <= 0.2 && e >= 0.5 * peak {
            sum_v += v * e;
            sum_w += e;
        }
    }
    (sum_w > 0.0).then(|| sum_v / sum_w)
}

/// The chin: the first strong light-above-dark edge below the mouth (the jaw's lower edge
/// against the shadow it casts on the neck).
pub fn chin_line(face: &Canonical, mouth_v: f64) -> Option<f64> {
    let raw = profile(
        &face.plane,
        (-0.3, 0.3),
        (mouth_v + 0.3, mouth_v + 1.4),
        |p, x, y| (p.at(x, y - 2) - p.at(x, y + 2)) / 4.0,
    );
    let smoothed = smooth(&raw, (0.03 * IPD) as usize);
    let (_, peak) = argmax(&smoothed)?;
    if peak <= 0.0 {
        return None;
    }
    // First local maximum that reaches 60 % of the strongest edge.
    for i in 1..smoothed.len().saturating_sub(1) {
        let (v, e) = smoothed[i];
        if e >= 0.6 * peak && e >= smoothed[i - 1].1 && e >= smoothed[i + 1].1 {
            return Some(v);
        }
    }
    argmax(&smoothed).map(|p| p.0)
}
