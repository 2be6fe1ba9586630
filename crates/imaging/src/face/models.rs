//! The two MediaPipe face models (BlazeFace short range and the 468-point face mesh), converted
//! to ONNX offline (model/regenerate.py) and run by tract in pure Rust.
//!
//! Both are compiled into the binary and parsed once per process. `load` is meant to be called
//! by the server at start, so that a model that does not load stops the service there with a
//! clear message instead of failing the first upload; `get` (used by the check) loads them on
//! first use for tools and tests that skip `load`.

use std::sync::{Arc, OnceLock};

use image::RgbImage;
use tract_onnx::prelude::*;

static DETECTOR_ONNX: &[u8] = include_bytes!("../../model/face_detection_short_range.onnx");
static MESH_ONNX: &[u8] = include_bytes!("../../model/face_landmark.onnx");

/// BlazeFace's input side and the mesh model's.
pub const DETECTOR_SIZE: usize = 128;
pub const MESH_SIZE: usize = 192;
/// Anchors (and so raw boxes) of BlazeFace short range: 16×16×2 + 8×8×6.
const ANCHORS: usize = 896;
pub const LANDMARKS: usize = 468;

/// A model that did not load or gave outputs of the wrong shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("face model {model} did not load: {reason}")]
pub struct ModelError {
    pub model: &'static str,
    pub reason: String,
}

type Plan = Arc<TypedSimplePlan>;

/// The loaded models; shared by all threads (tract plans run through `&self`).
pub struct Models {
    detector: Plan,
    mesh: Plan,
}

static MODELS: OnceLock<Result<Models, ModelError>> = OnceLock::new();

/// Loads both models (once per process) and runs each on a blank input to check its outputs.
pub fn load() -> Result<&'static Models, ModelError> {
    MODELS
        .get_or_init(Models::parse)
        .as_ref()
        .map_err(Clone::clone)
}

/// The models, for the check. The bytes are part of the build and `load` is tested, so a
/// failure here is a broken build that the server's start-up call has already reported.
pub(crate) fn get() -> &'static Models {
    match load() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

fn plan(name: &'static str, bytes: &[u8], side: usize) -> Result<Plan, ModelError> {
    let err = |e: TractError| ModelError {
        model: name,
        reason: format!("{e:#}"),
    };
    tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .and_then(|m| {
            m.with_input_fact(0, f32::fact([1, 3, side, side]).into())?
                .into_optimized()?
                .into_runnable()
        })
        .map_err(err)
}

impl Models {
    fn parse() -> Result<Models, ModelError> {
        let models = Models {
            detector: plan("face_detection_short_range", DETECTOR_ONNX, DETECTOR_SIZE)?,
            mesh: plan("face_landmark", MESH_ONNX, MESH_SIZE)?,
        };
        let blank = |side: usize| vec![0f32; 3 * side * side];
        models
            .run_detector(blank(DETECTOR_SIZE))
            .map_err(|reason| ModelError {
                model: "face_detection_short_range",
                reason,
            })?;
        models
            .run_mesh(blank(MESH_SIZE))
            .map_err(|reason| ModelError {
                model: "face_landmark",
                reason,
            })?;
        Ok(models)
    }

    /// Raw BlazeFace outputs for a planar (CHW) 128×128 input in −1..1: 896 × 16 box
    /// regressors and 896 logits.
    pub fn run_detector(&self, chw: Vec<f32>) -> Result<(Vec<f32>, Vec<f32>), String> {
        let out = run(&self.detector, chw, DETECTOR_SIZE)?;
        let boxes = slice(&out, 0, ANCHORS * 16)?;
        let scores = slice(&out, 1, ANCHORS)?;
        Ok((boxes, scores))
    }

    /// Raw mesh outputs for a planar 192×192 input in 0..1: 468 × (x, y, z) in input pixels and
    /// the face-presence logit.
    pub fn run_mesh(&self, chw: Vec<f32>) -> Result<(Vec<f32>, f32), String> {
        let out = run(&self.mesh, chw, MESH_SIZE)?;
        let points = slice(&out, 0, LANDMARKS * 3)?;
        let flag = slice(&out, 1, 1)?;
        Ok((points, flag[0]))
    }
}

fn run(plan: &Plan, chw: Vec<f32>, side: usize) -> Result<TVec<TValue>, String> {
    let input = Tensor::from_shape(&[1, 3, side, side], &chw).map_err(|e| e.to_string())?;
    plan.run(tvec!(input.into_tvalue()))
        .map_err(|e| format!("{e:#}"))
}

fn slice(out: &TVec<TValue>, i: usize, len: usize) -> Result<Vec<f32>, String> {
    let t = out.get(i).ok_or_else(|| format!("output {i} missing"))?;
    let view = t
        .to_plain_array_view::<f32>()
        .map_err(|e| e.to_string())?;
    if view.len() != len {
        return Err(format!("output {i} has {} values, expected {len}", view.len()));
    }
    Ok(view.iter().copied().collect())
}

/// Samples a `side`×`side` planar RGB tensor from `rgb` through the affine map
/// (u, v) → origin + u·ex + v·ey (image pixels; `ex`, `ey` are one tensor pixel's steps), each
/// channel mapped by `a·value + b`. Bilinear; when a tensor pixel spans several image pixels it
/// averages a grid of taps across its footprint, so a 12 MP photo shrunk to 128 px does not
/// alias. Outside the photo the value is `outside` (a letterbox), or the nearest border pixel.
pub fn sample_chw(
    rgb: &RgbImage,
    side: usize,
    origin: (f64, f64),
    ex: (f64, f64),
    ey: (f64, f64),
    (a, b): (f32, f32),
    outside: Option<f32>,
) -> Vec<f32> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let raw = rgb.as_raw();
    let plane = side * side;
    let mut out = vec![outside.unwrap_or(0.0); 3 * plane];
    if w == 0 || h == 0 {
        return out;
    }
    let step = ex.0.hypot(ex.1).max(ey.0.hypot(ey.1));
    let taps = (step.ceil() as usize).clamp(1, 4);
    let offsets: Vec<f64> = (0..taps)
        .map(|i| (i as f64 + 0.5) / taps as f64 - 0.5)
        .collect();
    let weight = 1.0 / (taps * taps) as f32;
    let (wm, hm) = ((w - 1) as f64, (h - 1) as f64);
    let bilinear = |x: f64, y: f64, acc: &mut [f32; 3]| {
        let (x, y) = (x.clamp(0.0, wm), y.clamp(0.0, hm));
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let (i00, i01) = ((y0 * w + x0) * 3, (y0 * w + x1) * 3);
        let (i10, i11) = ((y1 * w + x0) * 3, (y1 * w + x1) * 3);
        for (c, slot) in acc.iter_mut().enumerate() {
            let p = |i: usize| f32::from(raw[i + c]);
            let top = p(i00) + (p(i01) - p(i00)) * fx;
            let bottom = p(i10) + (p(i11) - p(i10)) * fx;
            *slot += top + (bottom - top) * fy;
        }
    };
    for v in 0..side {
        for u in 0..side {
            // Pixel centres map to pixel centres (image pixel i spans i..i+1 continuously).
            let (fu, fv) = (u as f64 + 0.5, v as f64 + 0.5);
            let cx = origin.0 + fu * ex.0 + fv * ey.0;
            let cy = origin.1 + fu * ex.1 + fv * ey.1;
            let o = v * side + u;
            if outside.is_some() && (cx < 0.0 || cy < 0.0 || cx > w as f64 || cy > h as f64) {
                continue;
            }
            let mut acc = [0f32; 3];
            for &ty in &offsets {
                for &tx in &offsets {
                    let x = cx + tx * ex.0 + ty * ey.0 - 0.5;
                    let y = cy + tx * ex.1 + ty * ey.1 - 0.5;
                    bilinear(x, y, &mut acc);
                }
            }
            for (c, v) in acc.iter().enumerate() {
                out[c * plane + o] = a * v * weight + b;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_load_and_answer_with_the_expected_shapes() {
        let m = load().expect("the vendored models load");
        let (boxes, scores) = m.run_detector(vec![0.0; 3 * 128 * 128]).unwrap();
        assert_eq!((boxes.len(), scores.len()), (896 * 16, 896));
        let (points, _) = m.run_mesh(vec![0.0; 3 * 192 * 192]).unwrap();
        assert_eq!(points.len(), 468 * 3);
    }

    #[test]
    fn sampling_maps_pixel_centres() {
        let img = RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 0]));
        let t = sample_chw(&img, 4, (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 0.0), None);
        assert_eq!(t[2], 20.0);
        assert_eq!(t[16 + 3 * 4], 30.0);
    }
}
