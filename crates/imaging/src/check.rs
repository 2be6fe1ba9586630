//! The preliminary check (初审): find the face, measure, judge against the thresholds.

use image::RgbImage;

use crate::background;
use crate::face::geometry::{Backdrop, FACE_WIDTH_PER_IPD, FaceGeometry, Point};
use crate::face::{self, FaceFeatures};
use crate::measures;
use crate::report::{CheckReport, Collector, Severity};
use crate::spec::CheckSpec;
use crate::working::Working;

/// Checks a decoded, upright photo against `spec`. Pure and synchronous; cost is bounded by
/// the working-image size, not by the upload's.
pub fn check(image: &RgbImage, spec: &CheckSpec) -> CheckReport {
    let t = &spec.thresholds;
    let mut c = Collector::default();
    if image.width() < 2 || image.height() < 2 {
        c.raise("ID_NO_FACE", Severity::Error);
        return c.finish(None);
    }
    let work = Working::new(image);
    let located = face::locate(&work);
    c.judge("face_count", located.faces.len() as f64, &t.face_count);
    let Some(f) = located.main else {
        c.raise("ID_NO_FACE", Severity::Error);
        return c.finish(None);
    };
    c.note("face_score", f.detection.score);
    c.note("mesh_presence", f.mesh.presence);
    let mut geometry = geometry_of(&work, &f, image.width(), image.height());
    measures::framing::measure(&work.rgb, &geometry, &f, spec, &mut c);
    measures::pose::measure(&f, t, &mut c);
    measures::light::measure(&work.luma, &f, t, &mut c);
    measures::sharpness::measure(&f, t, &mut c);
    let stats = background::measure::measure(&work.rgb, &work.luma, &f, t, &mut c);
    if stats.is_some_and(|bg| bg.plain(t)) {
        let [r, g, b] = f.backdrop.colour;
        geometry.backdrop = Some(Backdrop {
            colour: [r.round() as u8, g.round() as u8, b.round() as u8],
            tolerance: f.backdrop.tolerance,
        });
    }
    c.finish(Some(geometry))
}

/// The face's geometry in source pixels.
fn geometry_of(work: &Working<'_>, f: &FaceFeatures, width: u32, height: u32) -> FaceGeometry {
    let point = |(x, y): (f64, f64)| Point {
        x: work.to_source(x),
        y: work.to_source(y),
    };
    let left_eye = point(f.left_eye);
    let right_eye = point(f.right_eye);
    let ipd = (right_eye.x - left_eye.x).hypot(right_eye.y - left_eye.y);
    let k = f64::from(work.factor);
    FaceGeometry {
        image_width: width,
        image_height: height,
        face_box: [
            work.to_source(f.detection.cx - f.detection.width / 2.0),
            work.to_source(f.detection.cy - f.detection.height / 2.0),
            f.detection.width * k,
            f.detection.height * k,
        ],
        left_eye,
        right_eye,
        roll_deg: (right_eye.y - left_eye.y)
            .atan2(right_eye.x - left_eye.x)
            .to_degrees(),
        head_top: f.crown.length * ipd,
        head_top_visible: !f.crown.hit_edge,
        mouth: f.mouth() * ipd,
        chin: f.chin() * ipd,
        face_width: FACE_WIDTH_PER_IPD * ipd,
        backdrop: None,
    }
}
