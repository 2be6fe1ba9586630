//! Finding the face and its landmarks: detection, eye centres, the aligned (canonical) face,
//! its horizontal lines from projection profiles, and its outline against the backdrop.

pub mod canonical;
pub mod detect;
pub mod eyes;
pub mod geometry;
pub mod outline;
pub mod profile;
pub mod sample;

use canonical::Canonical;
use detect::FaceBox;
use outline::Walk;

use crate::background::model::BackdropModel;
use crate::working::Working;

/// A secondary detection narrower than this share of the main face is not counted as a second
/// person (the cascade's occasional small false positives in clothing or clutter).
pub(crate) const SECONDARY_FACE_MIN: f64 = 1.0 / 3.0;
/// Where the mouth is assumed when its line cannot be found (IPD units below the eyes; the
/// anthropometric pupil–stomion distance is 1.1–1.2 IPD).
const DEFAULT_MOUTH_V: f64 = 1.1;
/// Where the chin is assumed when its edge cannot be found (pupil–menton ≈ 1.9 IPD).
const DEFAULT_CHIN_V: f64 = 1.9;

/// Everything found about the main face, in working-image terms.
pub struct FaceFeatures {
    pub face: FaceBox,
    pub left_eye: (f64, f64),
    pub right_eye: (f64, f64),
    pub canonical: Canonical,
    /// Lines below the eye line, IPD units; `None` where no clear line was found.
    pub mouth_v: Option<f64>,
    pub chin_v: Option<f64>,
    /// Upward walk from the eye line to the backdrop (head top).
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
        self.mouth_v.unwrap_or(DEFAULT_MOUTH_V)
    }

    pub fn chin(&self) -> f64 {
        self.chin_v.unwrap_or(DEFAULT_CHIN_V)
    }
}

/// The faces found and the main one's features.
pub struct Located {
    /// Faces that count (the main face first).
    pub faces: Vec<FaceBox>,
    pub main: Option<FaceFeatures>,
}

/// Finds the faces and measures the largest.
pub fn locate(work: &Working, min_score: f64) -> Located {
    let mut faces = detect::detect_faces(&work.luma, &work.rgb, min_score);
    let Some(main) = faces.first().copied() else {
        return Located { faces, main: None };
    };
    faces.retain(|f| f.size >= main.size * SECONDARY_FACE_MIN);
    let (left_eye, right_eye) = eyes::locate_eyes(&work.luma, &main);
    let canonical = Canonical::new(&work.luma, left_eye, right_eye);
    let mouth_v = profile::mouth_line(&canonical);
    let chin_v = profile::chin_line(&canonical, mouth_v.unwrap_or(DEFAULT_MOUTH_V));
    let backdrop = BackdropModel::learn(&work.rgb, (left_eye.1 + right_eye.1) / 2.0);
    let crown = outline::crown(&work.rgb, &backdrop, &canonical);
    let features = FaceFeatures {
        face: main,
        left_eye,
        right_eye,
        canonical,
        mouth_v,
        chin_v,
        crown,
        backdrop,
    };
    Located {
        faces,
        main: Some(features),
    }
}
