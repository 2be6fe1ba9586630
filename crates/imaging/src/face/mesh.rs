//! Faces and their 468 3-D landmarks: BlazeFace finds the faces, the face-mesh model places the
//! landmarks in a crop around the main one, the way MediaPipe's own face-mesh graph does
//! (detection → rotated square region of 1.5× the box → 192×192 crop → landmarks).

use super::models::{self, DETECTOR_SIZE, LANDMARKS, MESH_SIZE, Pyramid};

/// A face found by BlazeFace, in working-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Box centre and size.
    pub cx: f64,
    pub cy: f64,
    pub width: f64,
    pub height: f64,
    /// Sigmoid score, 0..1.
    pub score: f64,
    /// The subject's right eye (image left) and left eye, from the detector's keypoints.
    pub right_eye: (f64, f64),
    pub left_eye: (f64, f64),
}

impl Detection {
    pub fn size(&self) -> f64 {
        self.width.max(self.height)
    }
}

/// BlazeFace short range's own settings (MediaPipe face_detection_short_range.pbtxt): a box
/// counts from a score of 0.5; overlapping boxes (IoU > 0.3) are merged by weighted averaging.
pub const MIN_SCORE: f64 = 0.5;
/// Boxes from this score are kept as candidates for a second person: a smaller face, or one in
/// a grey photo, can score well under 0.5 at the whole-photo scale (0.06 was seen). They count
/// only once a closer look confirms them (`confirm_at_zoom`).
pub const CANDIDATE_SCORE: f64 = 0.05;
const NMS_IOU: f64 = 0.3;

/// Anchor centres in the 128×128 input, normalised: a 16×16 grid with 2 anchors a cell (stride
/// 8) then an 8×8 grid with 6 (three stride-16 layers). Fixed anchor size, so only centres.
fn anchors() -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(896);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                let c = (
                    (x as f64 + 0.5) / grid as f64,
                    (y as f64 + 0.5) / grid as f64,
                );
                out.extend(std::iter::repeat_n(c, per_cell));
            }
        }
    }
    out
}

/// Finds faces, highest score first. The whole photo is letterboxed into the detector's square
/// input (aspect kept, black bars), as MediaPipe does; an ID photo's face is large there. When
/// that finds nothing, overlapping squares of half the photo's shorter side are searched too:
/// a subject standing far away (a face a tenth of the frame) should hear "move closer", not
/// "no face". Only failing photos pay for that second pass.
pub fn detect(rgb: &Pyramid<'_>) -> Vec<Detection> {
    let (w, h) = (f64::from(rgb.base.width()), f64::from(rgb.base.height()));
    if w < 2.0 || h < 2.0 {
        return Vec::new();
    }
    let found = detect_in(rgb, (0.0, 0.0), w.max(h));
    if found.iter().any(|d| d.score >= MIN_SCORE) {
        return found;
    }
    // Half the shorter side, but never under a quarter of the longer one: a strip-shaped photo
    // (a fuzzer's 8000×100) would otherwise need hundreds of tiles. At most 7 × 7 tiles.
    let tile = (w.min(h) / 2.0).max(w.max(h) / 4.0);
    if w.min(h) < 32.0 {
        return found;
    }
    let stride = tile / 2.0;
    let positions = |extent: f64| {
        let n = ((extent - tile) / stride).ceil().max(0.0) as usize;
        // A tile longer than the photo is centred on it.
        (0..=n).map(move |i| {
            if extent < tile {
                (extent - tile) / 2.0
            } else {
                (i as f64 * stride).min(extent - tile)
            }
        })
    };
    let mut all = Vec::new();
    for y in positions(h) {
        for x in positions(w) {
            all.extend(detect_in(rgb, (x, y), tile));
        }
    }
    // The tiles overlap, so a face may be found twice: merge as one pass would.
    weighted_nms(all)
}

/// Runs the detector on the square of `size` image pixels whose top-left corner is `corner`
/// (parts outside the photo read as black, like a letterbox).
fn detect_in(rgb: &Pyramid<'_>, corner: (f64, f64), size: f64) -> Vec<Detection> {
    let (w, h) = (f64::from(rgb.base.width()), f64::from(rgb.base.height()));
    let side = DETECTOR_SIZE as f64;
    // Image pixels per input pixel, and the image position of input (0, 0): the square is
    // centred on the photo when it is larger than the photo.
    let step = size / side;
    let origin = if size >= w.max(h) && corner == (0.0, 0.0) {
        ((w - size) / 2.0, (h - size) / 2.0)
    } else {
        corner
    };
    let input = models::sample_chw(
        rgb,
        DETECTOR_SIZE,
        origin,
        (step, 0.0),
        (0.0, step),
        (2.0 / 255.0, -1.0),
        Some(-1.0),
    );
    let Ok((raw, logits)) = models::get().run_detector(input) else {
        return Vec::new();
    };
    let to_image = |nx: f64, ny: f64| (origin.0 + nx * side * step, origin.1 + ny * side * step);
    let mut found: Vec<Detection> = Vec::new();
    for (i, (anchor, logit)) in anchors().iter().zip(&logits).enumerate() {
        let score = sigmoid(f64::from(logit.clamp(-100.0, 100.0)));
        if score < CANDIDATE_SCORE {
            continue;
        }
        let r = &raw[i * 16..i * 16 + 16];
        let v = |k: usize| f64::from(r[k]) / side;
        let (cx, cy) = to_image(anchor.0 + v(0), anchor.1 + v(1));
        let right_eye = to_image(anchor.0 + v(4), anchor.1 + v(5));
        let left_eye = to_image(anchor.0 + v(6), anchor.1 + v(7));
        found.push(Detection {
            cx,
            cy,
            width: v(2) * side * step,
            height: v(3) * side * step,
            score,
            right_eye,
            left_eye,
        });
    }
    weighted_nms(found)
}

/// Score a closer look must reach. Measured: second faces pasted beside the subject (colour,
/// grey, on a cream wall) and the fixture's second person score 0.86–0.94 there; the busiest
/// clothing of the fixtures (a spacesuit's collar ring and patches) 0.51–0.66.
const ZOOM_SCORE: f64 = 0.75;

/// Looks again at a weak candidate: the detector on a square of twice its size around it, where
/// a real face fills half the input. Returns the face found there, if sure.
pub fn confirm_at_zoom(rgb: &Pyramid<'_>, d: &Detection) -> Option<Detection> {
    let size = d.size() * 2.0;
    let corner = (d.cx - size / 2.0, d.cy - size / 2.0);
    detect_in(rgb, corner, size)
        .into_iter()
        .filter(|f| f.score >= ZOOM_SCORE)
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn iou(a: &Detection, b: &Detection) -> f64 {
    let (ax0, ax1, ay0, ay1) = (
        a.cx - a.width / 2.0,
        a.cx + a.width / 2.0,
        a.cy - a.height / 2.0,
        a.cy + a.height / 2.0,
    );
    let (bx0, bx1, by0, by1) = (
        b.cx - b.width / 2.0,
        b.cx + b.width / 2.0,
        b.cy - b.height / 2.0,
        b.cy + b.height / 2.0,
    );
    let iw = (ax1.min(bx1) - ax0.max(bx0)).max(0.0);
    let ih = (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let inter = iw * ih;
    let union = a.width * a.height + b.width * b.height - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// MediaPipe's weighted non-maximum suppression: each cluster of overlapping boxes becomes its
/// score-weighted mean, with the best score of the cluster.
fn weighted_nms(mut boxes: Vec<Detection>) -> Vec<Detection> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(top) = boxes.first().copied() {
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) =
            boxes.into_iter().partition(|b| iou(&top, b) > NMS_IOU);
        boxes = rest;
        let total: f64 = cluster.iter().map(|d| d.score).sum();
        let avg = |f: &dyn Fn(&Detection) -> f64| {
            cluster.iter().map(|d| f(d) * d.score).sum::<f64>() / total
        };
        out.push(Detection {
            cx: avg(&|d| d.cx),
            cy: avg(&|d| d.cy),
            width: avg(&|d| d.width),
            height: avg(&|d| d.height),
            score: top.score,
            right_eye: (avg(&|d| d.right_eye.0), avg(&|d| d.right_eye.1)),
            left_eye: (avg(&|d| d.left_eye.0), avg(&|d| d.left_eye.1)),
        });
    }
    out
}

/// The 468 landmarks in working-image pixels; z is depth on the same scale as x, growing away
/// from the camera (MediaPipe's convention), relative to the face's centre.
#[derive(Debug, Clone)]
pub struct Mesh {
    pub points: Vec<[f64; 3]>,
    /// Face-presence probability from the mesh model.
    pub presence: f64,
}

/// The mesh model's face flag below this means the crop holds no face (MediaPipe's own
/// tracking threshold).
const MIN_PRESENCE: f64 = 0.5;
/// MediaPipe's region of interest around a detection: 1.5× its box, square on the long side.
const ROI_SCALE: f64 = 1.5;

impl Mesh {
    /// Places the landmarks in the rotated region around `d`; `None` if the mesh model does not
    /// see a face there.
    pub fn of(rgb: &Pyramid<'_>, d: &Detection) -> Option<Mesh> {
        let angle = (d.left_eye.1 - d.right_eye.1).atan2(d.left_eye.0 - d.right_eye.0);
        let side = d.size() * ROI_SCALE;
        // One pass, as MediaPipe's static-image mode does. A second pass on the region the
        // first mesh spans (its video tracking step) was tried: it moved landmarks by under
        // 5 px on a 720×960 face (as far from MediaPipe's own output as without it) for the
        // cost of a whole model run.
        Mesh::in_region(rgb, (d.cx, d.cy), side, angle)
    }

    fn in_region(rgb: &Pyramid<'_>, centre: (f64, f64), side: f64, angle: f64) -> Option<Mesh> {
        if !(side.is_finite() && side > 1.0 && angle.is_finite()) {
            return None;
        }
        let step = side / MESH_SIZE as f64;
        let (s, c) = angle.sin_cos();
        let ex = (c * step, s * step);
        let ey = (-s * step, c * step);
        let half = MESH_SIZE as f64 / 2.0;
        let origin = (
            centre.0 - half * (ex.0 + ey.0),
            centre.1 - half * (ex.1 + ey.1),
        );
        let input = models::sample_chw(rgb, MESH_SIZE, origin, ex, ey, (1.0 / 255.0, 0.0), None);
        let (raw, logit) = models::get().run_mesh(input).ok()?;
        let presence = sigmoid(f64::from(logit));
        if presence < MIN_PRESENCE {
            return None;
        }
        let points = raw
            .chunks_exact(3)
            .take(LANDMARKS)
            .map(|p| {
                let (u, v, z) = (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
                // Continuous image coordinates, then pixel-index ones (centre of pixel i at i).
                [
                    origin.0 + u * ex.0 + v * ey.0 - 0.5,
                    origin.1 + u * ex.1 + v * ey.1 - 0.5,
                    z * step,
                ]
            })
            .collect();
        Some(Mesh { points, presence })
    }

    pub fn xy(&self, i: usize) -> (f64, f64) {
        let p = self.points[i];
        (p[0], p[1])
    }

    fn mean(&self, ids: &[usize]) -> [f64; 3] {
        let mut m = [0.0; 3];
        for &i in ids {
            for (k, v) in m.iter_mut().enumerate() {
                *v += self.points[i][k];
            }
        }
        m.map(|v| v / ids.len() as f64)
    }

    /// Centre of each eye's contour: the subject's right eye (image left), then the left.
    pub fn eye_centres(&self) -> ((f64, f64), (f64, f64)) {
        let r = self.mean(&idx::RIGHT_EYE);
        let l = self.mean(&idx::LEFT_EYE);
        ((r[0], r[1]), (l[0], l[1]))
    }

    /// Eye openness, lid gap over eye width (mean of three gaps across the eye), for each eye,
    /// from the landmarks in 3-D: a turned head foreshortens an eye's width in the photo but not
    /// in the mesh (the portrait turned 16°: its two eyes read 0.29 and 0.24 in 2-D, 0.27 and
    /// 0.25 in 3-D), and a ratio of two lengths of the same eye carries no face size or shape.
    /// Open eyes of the fixture people read 0.19–0.37. The model places the lids poorly on a
    /// closed eye: eyes painted shut on the three people's compliant photos read 0.16–0.28
    /// (`eye_experiment` below), so only eyes it sees clearly closed fall under the threshold.
    pub fn eye_openness(&self) -> (f64, f64) {
        let ratio = |corners: (usize, usize), lids: &[(usize, usize)]| {
            let width = dist3(self.points[corners.0], self.points[corners.1]).max(1e-6);
            let gap: f64 = lids
                .iter()
                .map(|&(a, b)| dist3(self.points[a], self.points[b]))
                .sum::<f64>()
                / lids.len() as f64;
            gap / width
        };
        (
            ratio(
                (idx::RIGHT_EYE_OUTER, idx::RIGHT_EYE_INNER),
                &idx::RIGHT_LIDS,
            ),
            ratio((idx::LEFT_EYE_OUTER, idx::LEFT_EYE_INNER), &idx::LEFT_LIDS),
        )
    }

    /// Inner-lip gap over mouth width.
    pub fn mouth_openness(&self) -> f64 {
        let width = dist(self.xy(idx::MOUTH_RIGHT), self.xy(idx::MOUTH_LEFT)).max(1e-6);
        dist(self.xy(idx::LIP_INNER_UPPER), self.xy(idx::LIP_INNER_LOWER)) / width
    }

    /// Head pose in degrees from the mesh's own 3-D axes, see `Pose`.
    pub fn pose(&self) -> Pose {
        Pose::from_axes(self.axes())
    }

    /// The face's right-to-left axis (from the subject's right to left: image left to right for
    /// a frontal face) and its top-to-bottom axis, in camera coordinates (x right, y down, z away
    /// from the camera), unit and orthogonal.
    ///
    /// Each axis is the sum over many pairs of landmarks that a face's own shape cannot tilt:
    /// left–right mirror pairs (eye corners, brows, cheeks, jaw, mouth corners) give the
    /// horizontal axis whatever the face's width or depth; the vertical axis runs from the
    /// upper to the lower half of the mid-line, both spread over the face.
    pub fn axes(&self) -> ([f64; 3], [f64; 3]) {
        let mut x = [0.0; 3];
        for &(r, l) in idx::MIRROR_PAIRS.iter() {
            for (k, v) in x.iter_mut().enumerate() {
                *v += self.points[l][k] - self.points[r][k];
            }
        }
        let x = normalise(x);
        let upper = self.mean(&idx::MIDLINE_UPPER);
        let lower = self.mean(&idx::MIDLINE_LOWER);
        let mut y = [
            lower[0] - upper[0],
            lower[1] - upper[1],
            lower[2] - upper[2],
        ];
        let d = dot(x, y);
        for (k, v) in y.iter_mut().enumerate() {
            *v -= d * x[k];
        }
        (x, normalise(y))
    }

    /// Landmarks of the face outline (forehead, temples, cheeks, jaw, chin).
    pub fn outline(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        idx::FACE_OVAL.iter().map(|&i| self.xy(i))
    }
}

/// Head pose in degrees. Yaw: positive when the face turns towards the image's right. Pitch:
/// positive when the face tilts up (chin forward, as with a camera below the face). Roll comes
/// from the eye line, where the photo itself measures it best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub yaw: f64,
    pub pitch: f64,
}

impl Pose {
    fn from_axes((x, y): ([f64; 3], [f64; 3])) -> Pose {
        // The face's forward direction (towards the camera when frontal): x × y points away
        // from the camera in a right-handed camera frame (x right, y down, z away).
        let away = cross(x, y);
        let f = [-away[0], -away[1], -away[2]];
        let toward = -f[2];
        Pose {
            yaw: f[0].atan2(toward.max(1e-9)).to_degrees(),
            pitch: (-f[1]).atan2(toward.max(1e-9)).to_degrees(),
        }
    }
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

fn dist3(a: [f64; 3], b: [f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    dot(d, d).sqrt()
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = dot(v, v).sqrt().max(1e-12);
    v.map(|c| c / n)
}

/// Landmark indices of MediaPipe's 468-point face mesh ("right" is the subject's right, on the
/// image's left).
pub mod idx {
    pub const RIGHT_EYE_OUTER: usize = 33;
    pub const RIGHT_EYE_INNER: usize = 133;
    pub const LEFT_EYE_OUTER: usize = 263;
    pub const LEFT_EYE_INNER: usize = 362;
    pub const RIGHT_EYE: [usize; 16] = [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ];
    pub const LEFT_EYE: [usize; 16] = [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ];
    /// Upper/lower lid pairs across each eye.
    pub const RIGHT_LIDS: [(usize, usize); 3] = [(160, 144), (159, 145), (158, 153)];
    pub const LEFT_LIDS: [(usize, usize); 3] = [(387, 373), (386, 374), (385, 380)];
    pub const MOUTH_RIGHT: usize = 61;
    pub const MOUTH_LEFT: usize = 291;
    pub const LIP_INNER_UPPER: usize = 13;
    pub const LIP_INNER_LOWER: usize = 14;
    pub const CHIN: usize = 152;
    /// Mirror pairs (subject's right, subject's left).
    pub const MIRROR_PAIRS: [(usize, usize); 14] = [
        (33, 263),
        (133, 362),
        (70, 300),
        (105, 334),
        (46, 276),
        (50, 280),
        (61, 291),
        (234, 454),
        (127, 356),
        (93, 323),
        (132, 361),
        (58, 288),
        (172, 397),
        (136, 365),
    ];
    /// The mid-line above the eyes' level and below the nose.
    pub const MIDLINE_UPPER: [usize; 5] = [10, 151, 9, 8, 168];
    pub const MIDLINE_LOWER: [usize; 6] = [17, 18, 200, 199, 175, 152];
    pub const FACE_OVAL: [usize; 36] = [
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same photo through MediaPipe 0.10.14's own Python FaceMesh (static image mode):
    /// eye corners, nose tip, chin and forehead in pixels (x, y, and z on x's scale). The
    /// converted models, run by tract with our crop, land within a few pixels of it.
    #[test]
    fn landmarks_match_mediapipe_on_the_fixture() {
        let reference: [(usize, [f64; 3]); 5] = [
            (33, [280.7, 365.4, 15.0]),
            (263, [446.0, 363.6, 24.7]),
            (1, [367.0, 435.7, -69.3]),
            (152, [362.8, 588.4, 3.4]),
            (10, [365.9, 266.8, -10.6]),
        ];
        let img = image::load_from_memory(include_bytes!(
            "../../../../tests/fixtures/photos/obama_ok.png"
        ))
        .expect("fixture decodes")
        .to_rgb8();
        let pyramid = Pyramid::new(&img);
        let d = detect(&pyramid);
        assert_eq!(d.len(), 1, "{d:?}");
        let mesh = Mesh::of(&pyramid, &d[0]).expect("mesh");
        for (i, want) in reference {
            let p = mesh.points[i];
            // Ours are pixel-index coordinates, MediaPipe's continuous ones (+0.5).
            let (dx, dy, dz) = (p[0] + 0.5 - want[0], p[1] + 0.5 - want[1], p[2] - want[2]);
            assert!(
                dx.hypot(dy) < 5.0 && dz.abs() < 5.0,
                "landmark {i}: {p:?} against {want:?}"
            );
        }
    }

    #[test]
    fn anchors_match_blazeface_short_range() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (1.0 / 32.0, 1.0 / 32.0));
        assert_eq!(a[512], (1.0 / 16.0, 1.0 / 16.0));
    }

    /// The mesh of a fixture photo's main face.
    fn fixture_mesh(jpeg: &[u8]) -> Mesh {
        let img = image::load_from_memory(jpeg)
            .expect("fixture decodes")
            .to_rgb8();
        let pyramid = Pyramid::new(&img);
        Mesh::of(&pyramid, &detect(&pyramid)[0]).expect("mesh")
    }

    /// A real mesh whose lids are brought together reads as closed eyes, an error under the
    /// shipped rule (`EYES_CLOSED`); half-way, a warning; as detected, nothing.
    #[test]
    fn lids_brought_together_are_closed_eyes() {
        use crate::report::Severity;
        let mesh = fixture_mesh(include_bytes!(
            "../../../../tests/fixtures/photos/obama_ok.jpg"
        ));
        let rule = &crate::thresholds::STANDARD.eye_openness;
        assert_eq!(rule.code, "EYES_CLOSED");
        let lids = |closure: f64| {
            let mut points = mesh.points.clone();
            for &(upper, lower) in idx::RIGHT_LIDS.iter().chain(&idx::LEFT_LIDS) {
                let (a, b) = (points[upper], points[lower]);
                let mid = [0, 1, 2].map(|k| (a[k] + b[k]) / 2.0);
                points[upper] = [0, 1, 2].map(|k| a[k] + (mid[k] - a[k]) * closure);
                points[lower] = [0, 1, 2].map(|k| b[k] + (mid[k] - b[k]) * closure);
            }
            let (r, l) = Mesh {
                points,
                presence: 1.0,
            }
            .eye_openness();
            (r.max(l), rule.judge(r.max(l)))
        };
        let (open, verdict) = lids(0.0);
        assert_eq!(verdict, None, "as detected: {open:.3}");
        let (half, verdict) = lids(0.4);
        assert_eq!(
            verdict,
            Some(Severity::Warning),
            "lids 40 % closer: {half:.3}"
        );
        let (shut, verdict) = lids(1.0);
        assert!(shut < 0.01, "{shut}");
        assert_eq!(verdict, Some(Severity::Error));
    }

    /// The real mesh of a fixture face, turned in 3-D about its own centre: the pose reads the
    /// turn, and neither a shorter chin nor a longer forehead (landmarks moved along the
    /// face's vertical axis) moves pitch.
    #[test]
    fn a_real_mesh_turned_in_3d_reads_its_turn() {
        let mesh = fixture_mesh(include_bytes!(
            "../../../../tests/fixtures/photos/hopper_ok.jpg"
        ));
        let base = mesh.pose();
        let n = mesh.points.len() as f64;
        let c = mesh.points.iter().fold([0.0; 3], |a, p| {
            [a[0] + p[0] / n, a[1] + p[1] / n, a[2] + p[2] / n]
        });
        let turned = |yaw: f64, pitch: f64| {
            let (sy, cy) = yaw.to_radians().sin_cos();
            let (sp, cp) = pitch.to_radians().sin_cos();
            let points = mesh
                .points
                .iter()
                .map(|p| {
                    let (x, y, z) = (p[0] - c[0], p[1] - c[1], p[2] - c[2]);
                    // Pitch about x (chin towards the camera for positive angles), then yaw
                    // about y (face towards the image's right).
                    let (y1, z1) = (y * cp + z * sp, -y * sp + z * cp);
                    let (x2, z2) = (x * cy - z1 * sy, x * sy + z1 * cy);
                    [x2 + c[0], y1 + c[1], z2 + c[2]]
                })
                .collect();
            Mesh {
                points,
                presence: 1.0,
            }
            .pose()
        };
        for angle in [-20.0, -10.0, 10.0, 20.0] {
            let p = turned(0.0, angle);
            assert!(
                (p.pitch - base.pitch - angle).abs() < 1.5,
                "pitch {angle}: {p:?} from {base:?}"
            );
            let y = turned(angle, 0.0);
            assert!(
                (y.yaw - base.yaw - angle).abs() < 1.5,
                "yaw {angle}: {y:?} from {base:?}"
            );
        }
        // Face proportions: the chin and jaw 15 % shorter, the forehead 15 % longer.
        let eye_y =
            (mesh.points[idx::RIGHT_EYE_OUTER][1] + mesh.points[idx::LEFT_EYE_OUTER][1]) / 2.0;
        let reshaped = Mesh {
            points: mesh
                .points
                .iter()
                .map(|p| {
                    let k = if p[1] > eye_y { 0.85 } else { 1.15 };
                    [p[0], eye_y + (p[1] - eye_y) * k, p[2]]
                })
                .collect(),
            presence: 1.0,
        };
        let r = reshaped.pose();
        assert!((r.pitch - base.pitch).abs() < 3.0, "{r:?} against {base:?}");
    }

    #[test]
    fn frontal_axes_read_zero_and_turns_read_their_angle() {
        let x = [1.0, 0.0, 0.0];
        let y = [0.0, 1.0, 0.0];
        let p = Pose::from_axes((x, y));
        assert!(p.yaw.abs() < 1e-9 && p.pitch.abs() < 1e-9);
        // Turn the head 20° towards the image's right: its forward vector (0,0,-1) gains +x.
        let a = 20f64.to_radians();
        let turned = Pose::from_axes(([a.cos(), 0.0, a.sin()], y));
        assert!((turned.yaw - 20.0).abs() < 1e-9, "{turned:?}");
        // Chin up: the down axis tips towards the camera at the bottom (−z).
        let up = Pose::from_axes((x, [0.0, a.cos(), -a.sin()]));
        assert!((up.pitch - 20.0).abs() < 1e-9, "{up:?}");
    }
}

/// What the mesh makes of closed eyes, for whoever improves `eye_openness` (no fixture shows a
/// real closed eye). Prints each fixture face's openness, and for each compliant photo that of
/// the same photo with both eyes painted shut (the upper lid's skin mirrored down over the eye,
/// a dark lash line where the lids meet):
/// `cargo test --release -p campus-photo-imaging --lib eyes_painted_shut -- --nocapture`.
/// Measured: open 0.18–0.37, painted shut 0.16–0.28 (obama 0.16–0.20, hopper 0.21–0.24, collins
/// 0.21–0.28): the model moves the lids by a fifth to a quarter, not shut.
#[cfg(test)]
mod eye_experiment {
    use super::*;

    fn report(tag: &str, img: &image::RgbImage) -> Option<Mesh> {
        let pyramid = Pyramid::new(img);
        let d = detect(&pyramid);
        let main = d.iter().find(|f| f.score >= MIN_SCORE)?;
        let m = Mesh::of(&pyramid, main)?;
        let (r, l) = m.eye_openness();
        let p = m.pose();
        eprintln!(
            "{tag:36} eye openness {r:.3} {l:.3}  yaw {:.1} pitch {:.1}",
            p.yaw, p.pitch
        );
        Some(m)
    }

    /// Paints each eye shut: every pixel within the eye contour grown by `grow` takes the pixel
    /// `lift` eye-heights above it (the upper lid's skin), and the lids' meeting line is drawn
    /// dark, as lashes are.
    fn shut(img: &image::RgbImage, m: &Mesh, grow: f64) -> image::RgbImage {
        let mut out = img.clone();
        for contour in [&idx::RIGHT_EYE[..], &idx::LEFT_EYE[..]] {
            let pts: Vec<(f64, f64)> = contour.iter().map(|&i| m.xy(i)).collect();
            let n = pts.len() as f64;
            let c = (
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let poly: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (c.0 + (p.0 - c.0) * grow, c.1 + (p.1 - c.1) * grow))
                .collect();
            let (y0, y1) = poly
                .iter()
                .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
            let (x0, x1) = poly
                .iter()
                .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
            let height = y1 - y0;
            for y in y0.floor() as u32..=y1.ceil() as u32 {
                for x in x0.floor() as u32..=x1.ceil() as u32 {
                    let (xf, yf) = (f64::from(x), f64::from(y));
                    let mut inside = false;
                    let mut j = poly.len() - 1;
                    for i in 0..poly.len() {
                        let (a, b) = (poly[i], poly[j]);
                        if (a.1 > yf) != (b.1 > yf)
                            && xf < (b.0 - a.0) * (yf - a.1) / (b.1 - a.1) + a.0
                        {
                            inside = !inside;
                        }
                        j = i;
                    }
                    if !inside {
                        continue;
                    }
                    // Skin from above the eye, mirrored about the contour's top.
                    let src_y = (y0 - (yf - y0) - 2.0).max(0.0) as u32;
                    let px = *img.get_pixel(x, src_y);
                    let on_line = (yf - (c.1 + height * 0.1)).abs() < 1.5;
                    out.put_pixel(
                        x,
                        y,
                        if on_line {
                            image::Rgb([40, 30, 30])
                        } else {
                            px
                        },
                    );
                }
            }
        }
        out
    }

    /// The measure moves the right way on every person: painting a compliant photo's eyes shut
    /// lowers the openness of the more open eye (what the check judges), by at least a twentieth
    /// (measured: 9–34 %). It guards the landmark indices and the 3-D ratio; the blind spot (painted-shut
    /// eyes still read above it) is documented, not asserted. Prints the figures with
    /// `-- --nocapture`.
    #[test]
    fn eyes_painted_shut_read_less_open() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photos");
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
            .filter(|n| n.ends_with("_ok.jpg") && !n.contains("12mp"))
            .collect();
        names.sort();
        assert!(
            names.len() >= 15,
            "compliant photos of three people: {names:?}"
        );
        for name in names {
            let img = image::open(root.join(&name)).unwrap().to_rgb8();
            let m = report(&name, &img).unwrap_or_else(|| panic!("{name}: no face"));
            let open = {
                let (r, l) = m.eye_openness();
                r.max(l)
            };
            let shut_mesh = report("  painted shut", &shut(&img, &m, 1.5))
                .unwrap_or_else(|| panic!("{name} painted shut: no face"));
            let shut = {
                let (r, l) = shut_mesh.eye_openness();
                r.max(l)
            };
            assert!(
                shut < open * 0.95,
                "{name}: open {open:.3}, painted shut {shut:.3}"
            );
        }
    }
}
