//! The face's geometry in the uploaded photo's pixels, as stored with the order so that the
//! standard photo can be rendered later from the original.

use serde::{Deserialize, Serialize};

/// A point in source-photo pixels (after EXIF orientation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// The backdrop colour found around the head, when it is plain enough to be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Backdrop {
    pub colour: [u8; 3],
    /// RGB distance under which a pixel is taken as backdrop.
    pub tolerance: f32,
}

/// Where the face is. Distances along the face's vertical axis (perpendicular to the eye line)
/// are measured from the eye line, in source pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceGeometry {
    /// Size of the photo these coordinates refer to.
    pub image_width: u32,
    pub image_height: u32,
    /// The detector's box: x, y, width, height.
    pub face_box: [f64; 4],
    /// The eye on the image's left (the subject's right eye).
    pub left_eye: Point,
    pub right_eye: Point,
    /// Eye-line angle in degrees, positive when the image-right eye is lower.
    pub roll_deg: f64,
    /// Eye line to the top of the head.
    pub head_top: f64,
    /// False when the head runs off the top of the photo (then `head_top` is a lower bound).
    pub head_top_visible: bool,
    /// Eye line to the mouth line.
    pub mouth: f64,
    /// Eye line to the chin.
    pub chin: f64,
    /// Face width used for the standard geometry (2 × inter-eye distance).
    pub face_width: f64,
    /// Present when the background is a plain backdrop that the render may recolour.
    pub backdrop: Option<Backdrop>,
}

/// Face width per inter-eye distance: bizygomatic breadth (≈ 130–140 mm) over the
/// inter-pupillary distance (≈ 63 mm) is about 2.1; the outline measured on the fixtures'
/// frontal face at mouth level is 2.0. A fixed ratio is steadier than an outline that hair
/// and ears disturb.
pub const FACE_WIDTH_PER_IPD: f64 = 2.0;

impl FaceGeometry {
    pub fn eye_mid(&self) -> Point {
        Point {
            x: (self.left_eye.x + self.right_eye.x) / 2.0,
            y: (self.left_eye.y + self.right_eye.y) / 2.0,
        }
    }

    pub fn inter_eye(&self) -> f64 {
        (self.right_eye.x - self.left_eye.x).hypot(self.right_eye.y - self.left_eye.y)
    }

    /// Unit vector pointing down the face (from the eyes towards the chin).
    pub fn down(&self) -> (f64, f64) {
        let a = self.roll_deg.to_radians();
        (-a.sin(), a.cos())
    }

    /// The point `distance` pixels below the eye midpoint along the face axis (negative: above).
    pub fn along_axis(&self, distance: f64) -> Point {
        let m = self.eye_mid();
        let (dx, dy) = self.down();
        Point {
            x: m.x + dx * distance,
            y: m.y + dy * distance,
        }
    }
}
