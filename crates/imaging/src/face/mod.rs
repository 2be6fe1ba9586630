//! Finding the face and its landmarks: BlazeFace detection and the 468-point 3-D face mesh
//! (MediaPipe's models, run by tract), the aligned (canonical) face, and the head's outline
//! against the backdrop.

pub mod canonical;
mod depthwise;
pub mod geometry;
pub mod mesh;
pub mod models;
mod op_io;
pub mod outline;
mod pad;
mod pool;
mod prelu;
pub mod sample;

use canonical::Canonical;
use mesh::{Detection, Mesh, idx};
use outline::Walk;

use crate::background::model::BackdropModel;
use crate::working::Working;

/// A secondary detection narrower than this share of the main face is not counted as a second
/// person (a face on a poster or a badge far behind or below the subject).
pub(crate) const SECONDARY_FACE_MIN: f64 = 1.0 / 3.0;

/// Weak detections looked at again, at most: each look is a detector run (≈ 3 ms).
const MAX_SECOND_LOOKS: usize = 2;

/// Whether `a`'s centre lies within `b`'s box grown by half: the same face, or part of it.
fn near(a: &Detection, b: &Detection) -> bool {
    let reach = b.size() * 0.75;
    (a.cx - b.cx).abs() < reach && (a.cy - b.cy).abs() < reach
}

/// Everything found about the main face, in working-image terms.
pub struct FaceFeatures {
    pub detection: Detection,
    pub mesh: Mesh,
    /// Eye centres (mean of each eye's contour): the image's left eye, then its right.
    pub left_eye: (f64, f64),
    pub right_eye: (f64, f64),
    pub canonical: Canonical,
    /// Lines below the eye line, IPD units, from the landmarks (mouth: the lips' meeting line;
    /// chin: the lowest point of the jaw outline).
    pub mouth_v: f64,
    pub chin_v: f64,
    /// Upward walk from the eye line to the backdrop (head top with hair).
    pub crown: Walk,
    pub backdrop: BackdropModel,
}

impl FaceFeatures {
    pub fn ipd(&self) -> f64 {
        (self.right_eye.0 - self.left_eye.0).hypot(self.right_eye.1 - self.left_eye.1)
    }

    pub fn roll_deg(&self) -> f64 {
        (self.right_eye.1 - self.left_eye.1)
            .atan2(self.right_eye.0 - self.left_eye.0)
            .to_degrees()
    }

    pub fn mouth(&self) -> f64 {
        self.mouth_v
    }

    pub fn chin(&self) -> f64 {
        self.chin_v
    }

    /// Distance of a working-image point below the eye line along the face axis, IPD units.
    fn below_eyes(&self, p: (f64, f64)) -> f64 {
        let mid = (
            (self.left_eye.0 + self.right_eye.0) / 2.0,
            (self.left_eye.1 + self.right_eye.1) / 2.0,
        );
        let a = self.roll_deg().to_radians();
        let (dx, dy) = (-a.sin(), a.cos());
        ((p.0 - mid.0) * dx + (p.1 - mid.1) * dy) / self.ipd().max(1e-6)
    }
}

/// The faces found and the main one's features.
pub struct Located {
    /// Faces that count (the main face first).
    pub faces: Vec<Detection>,
    pub main: Option<FaceFeatures>,
}

/// Finds the faces and measures the largest.
pub fn locate(work: &Working<'_>) -> Located {
    let pyramid = models::Pyramid::new(&work.rgb);
    let mut faces = mesh::detect(&pyramid);
    faces.sort_by(|a, b| b.size().total_cmp(&a.size()));
    // The main face is the largest sure detection; weaker ones are only candidates for a
    // second person.
    let Some(main) = faces.iter().find(|f| f.score >= mesh::MIN_SCORE).copied() else {
        return Located {
            faces: Vec::new(),
            main: None,
        };
    };
    // Other faces: sure ones of at least a third of the main face's size count; weak ones
    // away from the main face (not the detector's echoes of it) are looked at again, closer,
    // at most two of them so that clutter cannot make the check slow.
    let mut others = Vec::new();
    let mut second_looks = 0;
    // Strongest candidates first, so the few second looks go where a face is likeliest.
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    for f in faces.iter().filter(|f| **f != main) {
        if f.size() < main.size() * SECONDARY_FACE_MIN {
            continue;
        }
        if f.score >= mesh::MIN_SCORE {
            others.push(*f);
        } else if !near(f, &main) && second_looks < MAX_SECOND_LOOKS {
            second_looks += 1;
            if let Some(found) = mesh::confirm_at_zoom(&pyramid, f)
                && found.size() >= main.size() * SECONDARY_FACE_MIN
                && !near(&found, &main)
            {
                others.push(found);
            }
        }
    }
    let mut faces = vec![main];
    // A face found both ways is one face.
    for f in others {
        if !faces.iter().any(|g| near(&f, g)) {
            faces.push(f);
        }
    }
    let Some(mesh) = Mesh::of(&pyramid, &main) else {
        // The detector's box holds nothing the mesh model takes for a face: a false detection.
        faces.remove(0);
        return Located { faces, main: None };
    };
    let (left_eye, right_eye) = mesh.eye_centres();
    let canonical = Canonical::new(&work.luma, left_eye, right_eye);
    let backdrop = BackdropModel::learn(&work.rgb, (left_eye.1 + right_eye.1) / 2.0);
    let crown = outline::crown(&work.rgb, &backdrop, &canonical);
    let mut features = FaceFeatures {
        detection: main,
        left_eye,
        right_eye,
        canonical,
        mouth_v: 0.0,
        chin_v: 0.0,
        crown,
        backdrop,
        mesh,
    };
    let lips = {
        let (a, b) = (
            features.mesh.xy(idx::LIP_INNER_UPPER),
            features.mesh.xy(idx::LIP_INNER_LOWER),
        );
        ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)
    };
    features.mouth_v = features.below_eyes(lips);
    features.chin_v = features.below_eyes(features.mesh.xy(idx::CHIN));
    Located {
        faces,
        main: Some(features),
    }
}
