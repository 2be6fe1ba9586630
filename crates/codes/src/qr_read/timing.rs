//! Counting the modules of a symbol along its timing patterns on the grey
//! image. The finder distance only gives the size to within a few versions
//! (module pitch estimates from blurred finders are rough, perspective
//! stretches one side); counting the alternating timing modules between two
//! finders gives it exactly, and counting does not care about the uneven
//! spacing perspective causes.

use super::grey::Grey;
use super::homography::Pt;

/// Symbol size implied by the timing pattern running from finder centre `a`
/// to finder centre `b`, sampled `down` (a vector of one module pointing from
/// the finder centres towards the pattern: the pattern lies 3 modules off the
/// centre line). `None` if the profile does not look like a timing pattern.
pub(crate) fn count_size(g: &Grey, a: Pt, b: Pt, down: Pt, module: f64) -> Option<usize> {
    let start = (a.0 + 3.0 * down.0, a.1 + 3.0 * down.1);
    let end = (b.0 + 3.0 * down.0, b.1 + 3.0 * down.1);
    let length = (end.0 - start.0).hypot(end.1 - start.1);
    if module < 0.5 || length < 10.0 * module {
        return None;
    }
    // Four samples per pixel, at least eight per module.
    let per_px = (8.0 / module).max(4.0);
    let n = (length * per_px).ceil() as usize;
    let profile: Vec<f32> = (0..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            g.sample(
                (start.0 + (end.0 - start.0) * t) as f32,
                (start.1 + (end.1 - start.1) * t) as f32,
            )
        })
        .collect();
    let samples_per_module = module * per_px;
    let lights = count_light_runs(&profile, samples_per_module);
    // Light modules between the finders' rings: (size − 13) / 2.
    let size = lights * 2 + 13;
    (21..=177).contains(&size).then(|| round_to_version(size))
}

/// Number of light runs strictly between the dark ends of the profile.
/// Levels are compared with a moving average over two modules (so glare
/// and the alternation's low contrast under blur do not matter), with a
/// small hysteresis and a minimum run length against noise.
fn count_light_runs(profile: &[f32], samples_per_module: f64) -> usize {
    let half = (samples_per_module.round() as usize).max(1);
    let n = profile.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f64);
    for &v in profile {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v as f64);
    }
    let mean = |i: usize| {
        let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
    };
    // Local contrast scale for the hysteresis.
    let spread = {
        let mut sorted: Vec<f32> = profile.to_vec();
        sorted.sort_by(f32::total_cmp);
        sorted[n * 9 / 10] - sorted[n / 10]
    };
    let hysteresis = spread * 0.05;
    let min_run = (samples_per_module * 0.35).max(1.0) as usize;
    let mut light = false;
    let mut run = 0usize;
    let mut lights = 0usize;
    for (i, &v) in profile.iter().enumerate() {
        let m = mean(i);
        let now = if light {
            v > m - hysteresis
        } else {
            v > m + hysteresis
        };
        if now == light {
            run += 1;
            continue;
        }
        if light && run >= min_run {
            lights += 1;
        }
        light = now;
        run = 1;
    }
    // A light run still open at the end is not between the two rings.
    lights
}

/// Nearest valid symbol size (17 + 4·version).
pub(crate) fn round_to_version(size: usize) -> usize {
    let version = ((size as f64 - 17.0) / 4.0).round().clamp(1.0, 40.0) as usize;
    17 + 4 * version
}
