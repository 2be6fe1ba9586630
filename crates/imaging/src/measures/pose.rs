//! Head pose in degrees and what the landmarks say about the eyes and mouth.
//!
//! Roll is the eye line's angle in the photo. Yaw and pitch come from the face's own 3-D axes in
//! the face mesh (`Mesh::axes`): the horizontal axis from mirror pairs of landmarks, the vertical
//! one along the mid-line. A face's proportions (a long forehead, a short chin) move points
//! along these axes, not the axes' direction, so no person-specific norm is involved. The one
//! constant, `Thresholds::pitch_zero`, is where the mesh's mid-line points for a frontal face of any person
//! (the mesh's vertical axis leans slightly back, as a forehead does); it was set on the
//! fixture people, see thresholds.rs and the README's leave-one-person-out table.

use crate::face::FaceFeatures;
use crate::report::Collector;
use crate::thresholds::Thresholds;

pub fn measure(f: &FaceFeatures, t: &Thresholds, c: &mut Collector) {
    c.judge("roll_deg", f.roll_deg().abs(), &t.roll_deg);
    let pose = f.mesh.pose();
    c.judge("yaw_deg", pose.yaw, &t.yaw_deg);
    c.judge("pitch_deg", pose.pitch - t.pitch_zero, &t.pitch_deg);
    let (r, l) = f.mesh.eye_openness();
    // The more open eye decides: one eye narrowed by a smile or a squint is not a closed eye,
    // and a turned head foreshortens the far eye.
    c.judge("eye_openness", r.max(l), &t.eye_openness);
    c.judge("mouth_openness", f.mesh.mouth_openness(), &t.mouth_openness);
}
