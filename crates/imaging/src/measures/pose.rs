//! Head pose from landmarks, without a 3-D model.
//!
//! Roll is the eye line's angle. Yaw shows as asymmetry: turning the head moves the eyes and
//! nose towards one side of the head's outline, so the outline's half-widths either side of
//! the face axis differ (index ≈ 1.2·sin yaw for a head of average depth). Pitch shows in
//! the vertical proportions: a camera below the face (仰拍) shortens the forehead and
//! lengthens the lower face (the chin side is nearer the lens and grows — keystone); a camera
//! above (俯拍) does the opposite. Three proportions, each a log-ratio to its frontal norm,
//! are averaged so that one person's unusual forehead or chin does not decide alone.

use crate::face::FaceFeatures;
use crate::face::outline;
use crate::report::Collector;
use crate::thresholds::{PITCH_NORMS, Thresholds};
use image::RgbImage;

pub fn measure(rgb: &RgbImage, f: &FaceFeatures, t: &Thresholds, c: &mut Collector) {
    c.judge("roll_deg", f.roll_deg().abs(), &t.roll_deg);
    if let Some(yaw) = yaw_index(rgb, f) {
        c.judge("yaw_index", yaw, &t.yaw_index);
    }
    if let Some(pitch) = pitch_index(f) {
        c.judge("pitch_index", pitch, &t.pitch_index);
    }
}

/// (L − R)/(L + R) of the outline half-widths at the mouth and halfway to the chin: below the
/// ears, and usually below the hair. `None` when the outline is not against the backdrop.
pub fn yaw_index(rgb: &RgbImage, f: &FaceFeatures) -> Option<f64> {
    let (mouth, chin) = (f.mouth(), f.chin());
    let mut indices = Vec::new();
    for v in [mouth, (mouth + chin) / 2.0] {
        let (l, r) = outline::half_widths(rgb, &f.backdrop, &f.canonical, v);
        // A plausible cheek outline is 0.6–1.6 IPD from the axis on each side.
        let plausible = |w: &outline::Walk| !w.hit_edge && (0.6..=1.6).contains(&w.length);
        if plausible(&l) && plausible(&r) {
            indices.push((l.length - r.length) / (l.length + r.length));
        }
    }
    (!indices.is_empty()).then(|| indices.iter().sum::<f64>() / indices.len() as f64)
}

/// Mean log-ratio of the vertical proportions to their frontal norms; negative when the
/// camera is below the face, positive when above. `None` without a mouth line.
pub fn pitch_index(f: &FaceFeatures) -> Option<f64> {
    let mouth = f.mouth_v?;
    let mut cues = vec![(mouth / PITCH_NORMS.eye_mouth).ln()];
    if let Some(chin) = f.chin_v.filter(|&ch| ch > mouth + 0.3) {
        cues.push(((mouth / (chin - mouth)) / PITCH_NORMS.upper_lower).ln());
        if !f.crown.hit_edge && f.crown.length > 0.5 {
            let share = f.crown.length / (f.crown.length + chin);
            cues.push((share / PITCH_NORMS.forehead_share).ln());
        }
    }
    Some(cues.iter().sum::<f64>() / cues.len() as f64)
}
