//! Framing: is the face big enough, and does the photo hold what the standard photo needs
//! around it (room above the head, below the shoulders, at the sides)?

use crate::face::FaceFeatures;
use crate::face::geometry::FaceGeometry;
use crate::face::outline;
use crate::placement::Placement;
use crate::report::{Collector, Severity};
use crate::spec::CheckSpec;
use image::RgbImage;

pub fn measure(
    rgb: &RgbImage,
    g: &FaceGeometry,
    f: &FaceFeatures,
    spec: &CheckSpec,
    c: &mut Collector,
) {
    let t = &spec.thresholds;
    c.judge(
        "face_width_ratio",
        g.face_width / f64::from(g.image_width),
        &t.face_width_ratio,
    );
    let p = Placement::new(g, &spec.render);
    c.judge("render_scale", p.min_scale, &t.render_scale);
    let margin = if g.head_top_visible {
        g.along_axis(-g.head_top).y.max(0.0) * p.scale
    } else {
        0.0
    };
    c.judge("head_top_margin", margin, &t.head_top_margin);
    c.judge(
        "bottom_shortfall",
        p.bottom_shortfall(g.image_height),
        &t.bottom_shortfall,
    );
    let chin_out = p.eye_y + p.scale * g.chin;
    c.judge(
        "side_shortfall",
        p.side_shortfall(g.image_width, chin_out),
        &t.side_shortfall,
    );
    // The head itself running off a side edge (ear or cheek cut) cannot be padded.
    let (l, r) = outline::half_widths(rgb, &f.backdrop, &f.canonical, 0.0);
    let touches = l.hit_edge || r.hit_edge;
    c.note("head_touches_side", if touches { 1.0 } else { 0.0 });
    if touches {
        c.raise("GEO_NOT_CENTERED", Severity::Error);
    }
    // The face itself running out of the photo (forehead, chin or a cheek cut by the frame):
    // the mesh places its outline even where the pixels end, so this needs no backdrop.
    let (w, h) = (f64::from(rgb.width()), f64::from(rgb.height()));
    let outline: Vec<(f64, f64)> = f.mesh.outline().collect();
    let out = outline
        .iter()
        .filter(|p| p.0 < -0.5 || p.1 < -0.5 || p.0 > w - 0.5 || p.1 > h - 0.5)
        .count();
    c.judge(
        "face_outside_frame",
        out as f64 / outline.len().max(1) as f64,
        &t.face_outside_frame,
    );
}
