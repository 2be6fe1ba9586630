//! What the check and the render aim at.

use serde::{Deserialize, Serialize};

use crate::thresholds::Thresholds;

/// An inclusive band in output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub min: f64,
    pub max: f64,
}

impl Band {
    pub fn mid(&self) -> f64 {
        (self.min + self.max) / 2.0
    }
}

/// The standard photo's geometry (学信网: 480×640, eyes 200–300 px from the top, head top
/// 50–110 px, face width 180–300 px).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RenderGeometry {
    pub width: u32,
    pub height: u32,
    /// Eye line, pixels from the top.
    pub eyes_from_top: Band,
    /// Head top (crown), pixels from the top.
    pub head_top: Band,
    /// Face width, pixels.
    pub face_width: Band,
}

impl Default for RenderGeometry {
    fn default() -> Self {
        RenderGeometry {
            width: 480,
            height: 640,
            eyes_from_top: Band {
                min: 200.0,
                max: 300.0,
            },
            head_top: Band {
                min: 50.0,
                max: 110.0,
            },
            face_width: Band {
                min: 180.0,
                max: 300.0,
            },
        }
    }
}

/// Everything `check` is judged against. `CheckSpec::default()` is the standard.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CheckSpec {
    pub thresholds: Thresholds,
    pub render: RenderGeometry,
}
