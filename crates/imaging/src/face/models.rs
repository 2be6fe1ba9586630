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
use tract_onnx::tract_hir::internal::{
    AxisOp, Expansion, InferenceResult, OutletId, Solver, StaticName, TensorProxy,
    check_input_arity, check_output_arity, expand,
};
use tract_onnx::tract_hir::ops::math;

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

/// Parses and optimises one model for a `side`×`side` input. `rewrites` reads PRelu as
/// `max + alpha·min`, puts the exact 2×2 max pool of `pool.rs` in place of tract's, pads
/// depthwise convolutions ahead of them (`pad.rs`) and runs the stride-2 ones vectorised
/// (`depthwise.rs`); all give tract's own values to the bit (off only to test that).
fn plan(name: &'static str, bytes: &[u8], side: usize, rewrites: bool) -> Result<Plan, ModelError> {
    let err = |e: TractError| ModelError {
        model: name,
        reason: format!("{e:#}"),
    };
    let reader = if rewrites { onnx() } else { tract_onnx::onnx() };
    reader
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .and_then(|m| {
            let mut typed = m
                .with_input_fact(0, f32::fact([1, 3, side, side]).into())?
                .into_typed()?;
            if rewrites {
                super::pool::replace_pools(&mut typed)?;
                super::pad::pad_depthwise(&mut typed)?;
                super::depthwise::replace_strided(&mut typed)?;
            }
            typed.into_optimized()?.into_runnable()
        })
        .map_err(err)
}

/// tract's ONNX reader, with PRelu read as `max(x, 0) + alpha·min(x, 0)`: one pass of
/// `prelu.rs` for a slope per channel of an NCHW tensor (the face mesh's 23, with slopes from
/// −0.6 to 1.24), else those four element-wise ops, or `max(x, alpha·x)` when every alpha lies
/// in 0..=1 (for x ≥ 0, alpha·x ≤ x; for x < 0, alpha·x ≥ x). All are tract's own value to the
/// bit, where tract's own reading (`alpha·x if 0 > x else x`) builds a boolean tensor through a
/// broadcast comparison and then selects: a quarter of the mesh model's run.
fn onnx() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::onnx();
    onnx.op_register
        .insert("PRelu", |_, _| Ok((expand(PreluAsMax), vec![])));
    onnx
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct PreluAsMax;

impl Expansion for PreluAsMax {
    fn name(&self) -> StaticName {
        "PreluAsMax".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let a = inputs[0];
        let mut b = inputs[1];
        let alphas_in_unit_range = model
            .outlet_fact(b)?
            .konst
            .as_ref()
            .and_then(|k| {
                k.to_plain_array_view::<f32>()
                    .ok()
                    .map(|v| v.iter().all(|a| (0.0..=1.0).contains(a)))
            })
            .unwrap_or(false);
        let rank = model.outlet_fact(a)?.rank();
        while model.outlet_fact(b)?.rank() < rank {
            b = model.wire_node(
                format!("{}.add-axis-{}", name, model.outlet_fact(b)?.rank()),
                AxisOp::Add(0),
                &[b],
            )?[0];
        }
        if alphas_in_unit_range {
            let ab = model.wire_node(format!("{name}.mul"), math::mul(), &[a, b])?[0];
            return model.wire_node(format!("{name}.max"), math::max(), &[a, ab]);
        }
        // One slope per channel of an NCHW f32 tensor (the face mesh's): one pass of our own.
        let (a_fact, b_fact) = (model.outlet_fact(a)?, model.outlet_fact(b)?);
        let per_channel = a_fact.datum_type == f32::datum_type()
            && b_fact.datum_type == f32::datum_type()
            && rank == 4
            && match (a_fact.shape.as_concrete(), b_fact.shape.as_concrete()) {
                (Some(a_shape), Some(b_shape)) => {
                    b_shape.len() == 4
                        && b_shape[0] == 1
                        && b_shape[2..] == [1, 1]
                        && (b_shape[1] == a_shape[1] || b_shape[1] == 1)
                }
                _ => false,
            };
        if per_channel {
            return model.wire_node(name, super::prelu::PreluPerChannel, &[a, b]);
        }
        let zero = tensor0(0.0)
            .cast_to_dt(model.outlet_fact(a)?.datum_type)?
            .into_owned()
            .broadcast_into_rank(rank)?;
        let zero = model.add_const(format!("{name}.zero"), zero)?;
        let pos = model.wire_node(format!("{name}.pos"), math::max(), &[a, zero])?[0];
        let neg = model.wire_node(format!("{name}.neg"), math::min(), &[a, zero])?[0];
        let neg = model.wire_node(format!("{name}.scaled"), math::mul(), &[neg, b])?[0];
        model.wire_node(format!("{name}.add"), math::add(), &[pos, neg])
    }
}

impl Models {
    fn parse() -> Result<Models, ModelError> {
        let models = Models {
            detector: plan(
                "face_detection_short_range",
                DETECTOR_ONNX,
                DETECTOR_SIZE,
                true,
            )?,
            mesh: plan("face_landmark", MESH_ONNX, MESH_SIZE, true)?,
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
    let view = t.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
    if view.len() != len {
        return Err(format!(
            "output {i} has {} values, expected {len}",
            view.len()
        ));
    }
    Ok(view.iter().copied().collect())
}

/// The photo and box-filtered copies at 1/2, 1/4, 1/8… of its size, down to about the
/// detector's input size. Sampling a model input from the copy nearest its scale is proper
/// anti-aliasing (an exact box average, then bilinear) at the price of one bilinear read per
/// channel, where sampling the full photo would need a grid of reads per input pixel.
pub struct Pyramid<'a> {
    pub base: &'a RgbImage,
    /// `levels[i]` is the photo shrunk by 2^(i+1).
    levels: Vec<RgbImage>,
}

impl<'a> Pyramid<'a> {
    pub fn new(base: &'a RgbImage) -> Pyramid<'a> {
        let mut levels: Vec<RgbImage> = Vec::new();
        loop {
            let prev = levels.last().unwrap_or(base);
            if prev.width().min(prev.height()) < 2 * DETECTOR_SIZE as u32 / 2 {
                break;
            }
            let next = crate::working::box_downscale(prev, 2);
            levels.push(next);
        }
        Pyramid { base, levels }
    }

    /// The copy to sample at `step` photo pixels per sample, and its factor.
    fn level(&self, step: f64) -> (&RgbImage, f64) {
        let mut chosen = (self.base, 1.0);
        for (i, img) in self.levels.iter().enumerate() {
            let factor = f64::from(1u32 << (i + 1));
            if factor > step {
                break;
            }
            chosen = (img, factor);
        }
        chosen
    }
}

/// Samples a `side`×`side` planar RGB tensor through the affine map
/// (u, v) → origin + u·ex + v·ey (photo pixels; `ex`, `ey` are one tensor pixel's steps), each
/// channel mapped by `a·value + b`. Reads the pyramid level nearest the scale, bilinear, with
/// 2×2 taps when a tensor pixel still spans more than 1.5 of its pixels. Outside the photo the
/// value is `outside` (a letterbox), or the nearest border pixel.
///
/// An axis-aligned map (the detector's input) is sampled separably (`sample_separable`); a
/// rotated one (the mesh's crop) per pixel (`sample_rotated`). Both sum the same weighted taps,
/// in a different order: their values agree within float rounding (tested).
pub fn sample_chw(
    pyramid: &Pyramid<'_>,
    side: usize,
    origin: (f64, f64),
    ex: (f64, f64),
    ey: (f64, f64),
    (a, b): (f32, f32),
    outside: Option<f32>,
) -> Vec<f32> {
    let plane = side * side;
    let mut out = vec![outside.unwrap_or(0.0); 3 * plane];
    let (full_w, full_h) = (
        f64::from(pyramid.base.width()),
        f64::from(pyramid.base.height()),
    );
    if full_w < 1.0 || full_h < 1.0 {
        return out;
    }
    let step = ex.0.hypot(ex.1).max(ey.0.hypot(ey.1));
    let (img, factor) = pyramid.level(step);
    let level = Level::of(img);
    // In the level's pixels.
    let map = Map {
        side,
        origin: (origin.0 / factor, origin.1 / factor),
        ex: (ex.0 / factor, ex.1 / factor),
        ey: (ey.0 / factor, ey.1 / factor),
        offsets: if step / factor > 1.5 {
            &[-0.25, 0.25]
        } else {
            &[0.0]
        },
        letterbox: outside.is_some(),
    };
    let weight = a / (map.offsets.len() * map.offsets.len()) as f32;
    let (rgb, rest) = out.split_at_mut(plane);
    let (g_out, b_out) = rest.split_at_mut(plane);
    let mut put = |o: usize, acc: [f32; 3]| {
        rgb[o] = acc[0] * weight + b;
        g_out[o] = acc[1] * weight + b;
        b_out[o] = acc[2] * weight + b;
    };
    if map.ex.1 == 0.0 && map.ey.0 == 0.0 {
        sample_separable(&level, &map, &mut put);
    } else {
        sample_rotated(&level, &map, &mut put);
    }
    out
}

/// A tensor's map onto a pyramid level, in the level's pixels.
struct Map {
    side: usize,
    origin: (f64, f64),
    ex: (f64, f64),
    ey: (f64, f64),
    /// Sub-pixel tap offsets along each axis, in tensor pixels.
    offsets: &'static [f64],
    /// Pixels mapped outside the level keep the fill value (else they read the border).
    letterbox: bool,
}

/// The level position, along one axis, of the centre of tensor pixel `i`.
fn centre(i: usize, origin: f64, step: f64) -> f64 {
    origin + (i as f64 + 0.5) * step
}

/// An axis-aligned map: the 2×2 bilinear taps form a separable kernel, so each output row
/// first sums its (up to four) level rows, weighted, over the columns in use, then each output
/// pixel sums (up to four) columns of that line.
fn sample_separable(level: &Level<'_>, map: &Map, put: &mut impl FnMut(usize, [f32; 3])) {
    let (side, offsets, n) = (map.side, map.offsets, map.offsets.len());
    let (wf, hf) = (level.w as f64, level.h as f64);
    // Per output column: whether it is inside, and its taps as (byte offset in a row, weight).
    let cols: Vec<Option<[(usize, f32); 4]>> = (0..side)
        .map(|u| {
            let cx = centre(u, map.origin.0, map.ex.0);
            if map.letterbox && (cx < 0.0 || cx > wf) {
                return None;
            }
            let mut taps = [(0usize, 0f32); 4];
            for (k, &tx) in offsets.iter().enumerate() {
                let t = level.tap_x(cx + tx * map.ex.0 - 0.5);
                taps[2 * k] = (t.i0, 1.0 - t.f);
                taps[2 * k + 1] = (t.i1, t.f);
            }
            Some(taps)
        })
        .collect();
    let used = cols
        .iter()
        .flatten()
        .flat_map(|t| t[..2 * n].iter().map(|&(i, _)| i));
    let (lo, hi) = used.fold((usize::MAX, 0), |(lo, hi), i| (lo.min(i), hi.max(i + 3)));
    if lo >= hi {
        return;
    }
    let mut line = vec![0f32; hi - lo];
    for v in 0..side {
        let cy = centre(v, map.origin.1, map.ey.1);
        if map.letterbox && (cy < 0.0 || cy > hf) {
            continue;
        }
        line.fill(0.0);
        for &ty in offsets {
            let t = level.tap_y(cy + ty * map.ey.1 - 0.5);
            for (start, w) in [(t.i0, 1.0 - t.f), (t.i1, t.f)] {
                let row = &level.raw[start + lo..start + hi];
                for (acc, &p) in line.iter_mut().zip(row) {
                    *acc += w * f32::from(p);
                }
            }
        }
        for (u, taps) in cols.iter().enumerate() {
            let Some(taps) = taps else { continue };
            let mut acc = [0f32; 3];
            for &(i, w) in &taps[..2 * n] {
                let px = &line[i - lo..i - lo + 3];
                for c in 0..3 {
                    acc[c] += w * px[c];
                }
            }
            put(v * side + u, acc);
        }
    }
}

/// A rotated map: each tensor pixel's taps computed and read on their own.
fn sample_rotated(level: &Level<'_>, map: &Map, put: &mut impl FnMut(usize, [f32; 3])) {
    let (side, offsets, origin, ex, ey) = (map.side, map.offsets, map.origin, map.ex, map.ey);
    let (wf, hf) = (level.w as f64, level.h as f64);
    for v in 0..side {
        for u in 0..side {
            // Pixel centres map to pixel centres (pixel i spans i..i+1 continuously).
            let (fu, fv) = (u as f64 + 0.5, v as f64 + 0.5);
            let cx = origin.0 + fu * ex.0 + fv * ey.0;
            let cy = origin.1 + fu * ex.1 + fv * ey.1;
            if map.letterbox && (cx < 0.0 || cy < 0.0 || cx > wf || cy > hf) {
                continue;
            }
            if offsets.len() == 1 {
                // One tap at the centre (the mesh's crop, read from the level nearest its
                // scale): the same value as the loop below, which adds it to zero.
                put(v * side + u, level.bilinear_at(cx - 0.5, cy - 0.5));
                continue;
            }
            let mut acc = [0f32; 3];
            for &ty in offsets {
                for &tx in offsets {
                    let col = level.tap_x(cx + tx * ex.0 + ty * ey.0 - 0.5);
                    let row = level.tap_y(cy + tx * ex.1 + ty * ey.1 - 0.5);
                    level.bilinear(col, row, &mut acc);
                }
            }
            put(v * side + u, acc);
        }
    }
}

/// One bilinear tap along one axis: the two neighbours' offsets in the level's raw bytes and
/// the weight of the second.
#[derive(Debug, Clone, Copy, Default)]
struct Tap {
    i0: usize,
    i1: usize,
    f: f32,
}

/// A pyramid level's raw RGB bytes and size, for bilinear taps.
struct Level<'a> {
    raw: &'a [u8],
    w: usize,
    h: usize,
}

impl<'a> Level<'a> {
    fn of(img: &'a RgbImage) -> Level<'a> {
        Level {
            raw: img.as_raw(),
            w: img.width() as usize,
            h: img.height() as usize,
        }
    }

    /// The tap at level column `x` (pixel-index coordinates), clamped to the level.
    #[inline]
    fn tap_x(&self, x: f64) -> Tap {
        let x = (x as f32).clamp(0.0, (self.w - 1) as f32);
        let x0 = x as usize;
        let x1 = if x0 + 1 < self.w { x0 + 1 } else { x0 };
        Tap {
            i0: x0 * 3,
            i1: x1 * 3,
            f: x - x0 as f32,
        }
    }

    /// The tap at level row `y`, its offsets a whole row each.
    #[inline]
    fn tap_y(&self, y: f64) -> Tap {
        let y = (y as f32).clamp(0.0, (self.h - 1) as f32);
        let y0 = y as usize;
        let y1 = if y0 + 1 < self.h { y0 + 1 } else { y0 };
        Tap {
            i0: y0 * self.w * 3,
            i1: y1 * self.w * 3,
            f: y - y0 as f32,
        }
    }

    /// The bilinear value of the three channels at level position (`x`, `y`), clamped to the
    /// level: `bilinear` of `tap_x(x)` and `tap_y(y)` added to zero, with one bounds check for
    /// the four pixels instead of four.
    #[inline]
    fn bilinear_at(&self, x: f64, y: f64) -> [f32; 3] {
        let x = (x as f32).clamp(0.0, (self.w - 1) as f32);
        let y = (y as f32).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let dx = if x0 + 1 < self.w { 3 } else { 0 };
        let dy = if y0 + 1 < self.h { self.w * 3 } else { 0 };
        let start = (y0 * self.w + x0) * 3;
        let Some(p) = self.raw.get(start..start + dy + dx + 3) else {
            return [0.0; 3];
        };
        let mut out = [0f32; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let (p00, p01) = (f32::from(p[c]), f32::from(p[dx + c]));
            let (p10, p11) = (f32::from(p[dy + c]), f32::from(p[dy + dx + c]));
            let top = p00 + (p01 - p00) * fx;
            let bottom = p10 + (p11 - p10) * fx;
            *o = 0.0 + (top + (bottom - top) * fy);
        }
        out
    }

    /// Adds the bilinear value of the three channels at (`col`, `row`) to `acc`.
    #[inline]
    fn bilinear(&self, col: Tap, row: Tap, acc: &mut [f32; 3]) {
        let px = |i: usize| -> [f32; 3] {
            match self.raw.get(i..i + 3) {
                Some(p) => [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])],
                None => [0.0; 3],
            }
        };
        let (p00, p01) = (px(row.i0 + col.i0), px(row.i0 + col.i1));
        let (p10, p11) = (px(row.i1 + col.i0), px(row.i1 + col.i1));
        for c in 0..3 {
            let top = p00[c] + (p01[c] - p00[c]) * col.f;
            let bottom = p10[c] + (p11[c] - p10[c]) * col.f;
            acc[c] += top + (bottom - top) * row.f;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sampler as it was before its fast paths, for comparison. Samples a `side`×`side` planar RGB tensor through the affine map
    /// (u, v) → origin + u·ex + v·ey (photo pixels; `ex`, `ey` are one tensor pixel's steps), each
    /// channel mapped by `a·value + b`. Reads the pyramid level nearest the scale, bilinear, with
    /// 2×2 taps when a tensor pixel still spans more than 1.5 of its pixels. Outside the photo the
    /// value is `outside` (a letterbox), or the nearest border pixel.
    fn sample_chw_reference(
        pyramid: &Pyramid<'_>,
        side: usize,
        origin: (f64, f64),
        ex: (f64, f64),
        ey: (f64, f64),
        (a, b): (f32, f32),
        outside: Option<f32>,
    ) -> Vec<f32> {
        let plane = side * side;
        let mut out = vec![outside.unwrap_or(0.0); 3 * plane];
        let (full_w, full_h) = (
            f64::from(pyramid.base.width()),
            f64::from(pyramid.base.height()),
        );
        if full_w < 1.0 || full_h < 1.0 {
            return out;
        }
        let step = ex.0.hypot(ex.1).max(ey.0.hypot(ey.1));
        let (img, factor) = pyramid.level(step);
        let (w, h) = (img.width() as usize, img.height() as usize);
        let raw = img.as_raw();
        // In the level's pixels.
        let (origin, ex, ey) = (
            (origin.0 / factor, origin.1 / factor),
            (ex.0 / factor, ex.1 / factor),
            (ey.0 / factor, ey.1 / factor),
        );
        let offsets: &[f64] = if step / factor > 1.5 {
            &[-0.25, 0.25]
        } else {
            &[0.0]
        };
        let weight = a / (offsets.len() * offsets.len()) as f32;
        let (wm, hm) = ((w - 1) as f32, (h - 1) as f32);
        let (wf, hf) = (w as f64, h as f64);
        for v in 0..side {
            for u in 0..side {
                // Pixel centres map to pixel centres (pixel i spans i..i+1 continuously).
                let (fu, fv) = (u as f64 + 0.5, v as f64 + 0.5);
                let cx = origin.0 + fu * ex.0 + fv * ey.0;
                let cy = origin.1 + fu * ex.1 + fv * ey.1;
                if outside.is_some() && (cx < 0.0 || cy < 0.0 || cx > wf || cy > hf) {
                    continue;
                }
                let mut acc = [0f32; 3];
                for &ty in offsets {
                    for &tx in offsets {
                        let x = ((cx + tx * ex.0 + ty * ey.0 - 0.5) as f32).clamp(0.0, wm);
                        let y = ((cy + tx * ex.1 + ty * ey.1 - 0.5) as f32).clamp(0.0, hm);
                        let (x0, y0) = (x as usize, y as usize);
                        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                        let x1 = if x0 + 1 < w { x0 + 1 } else { x0 };
                        let y1 = if y0 + 1 < h { y0 + 1 } else { y0 };
                        let (i00, i01) = ((y0 * w + x0) * 3, (y0 * w + x1) * 3);
                        let (i10, i11) = ((y1 * w + x0) * 3, (y1 * w + x1) * 3);
                        for (c, slot) in acc.iter_mut().enumerate() {
                            let p00 = f32::from(raw[i00 + c]);
                            let p01 = f32::from(raw[i01 + c]);
                            let p10 = f32::from(raw[i10 + c]);
                            let p11 = f32::from(raw[i11 + c]);
                            let top = p00 + (p01 - p00) * fx;
                            let bottom = p10 + (p11 - p10) * fx;
                            *slot += top + (bottom - top) * fy;
                        }
                    }
                }
                let o = v * side + u;
                out[o] = acc[0] * weight + b;
                out[plane + o] = acc[1] * weight + b;
                out[2 * plane + o] = acc[2] * weight + b;
            }
        }
        out
    }

    /// Both paths of `sample_chw` give the old sampler's values, axis-aligned (letterboxed or
    /// not, 1 or 4 taps; within float rounding) and rotated (to the bit), inside and across the
    /// photo's edges.
    #[test]
    fn sampling_matches_the_reference() {
        let img = RgbImage::from_fn(301, 397, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y % 251) as u8, (x ^ y) as u8])
        });
        let pyramid = Pyramid::new(&img);
        type Case = ((f64, f64), (f64, f64), (f64, f64), Option<f32>);
        let cases: [Case; 8] = [
            ((-48.0, 0.0), (3.1, 0.0), (0.0, 3.1), Some(-1.0)),
            ((10.0, 20.0), (1.2, 0.0), (0.0, 1.2), None),
            ((-30.0, -10.0), (5.3, 0.0), (0.0, 5.3), Some(-1.0)),
            ((200.0, 40.0), (0.9, 0.4), (-0.4, 0.9), None),
            ((150.0, -20.0), (2.4, 1.1), (-1.1, 2.4), None),
            ((250.0, 300.0), (-1.5, -0.2), (0.2, -1.5), Some(0.0)),
            // Axis-aligned at 5 level pixels a step (the coarsest level): 2×2 taps 2.5 level
            // pixels apart.
            ((0.0, 0.0), (20.0, 0.0), (0.0, 20.0), Some(-1.0)),
            // Rotated with 2×2 taps (1.77 photo pixels a step, no level that coarse).
            ((20.0, 10.0), (1.7, 0.5), (-0.5, 1.7), None),
        ];
        for (origin, ex, ey, outside) in cases {
            for side in [17, 64] {
                let fast = sample_chw(&pyramid, side, origin, ex, ey, (2.0 / 255.0, -1.0), outside);
                let slow = sample_chw_reference(
                    &pyramid,
                    side,
                    origin,
                    ex,
                    ey,
                    (2.0 / 255.0, -1.0),
                    outside,
                );
                if ex.1 == 0.0 && ey.0 == 0.0 {
                    // The separable path sums the same weighted taps in another order. A tap
                    // misplaced by one pixel would move a value by 1e-3 or more on this image.
                    let worst = fast
                        .iter()
                        .zip(&slow)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0f32, f32::max);
                    assert!(worst <= 2e-6, "{origin:?} {ex:?} {ey:?} {side}: {worst}");
                } else {
                    let same = fast
                        .iter()
                        .zip(&slow)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{origin:?} {ex:?} {ey:?} {side}");
                }
            }
        }
    }

    #[test]
    fn models_load_and_answer_with_the_expected_shapes() {
        let m = load().expect("the vendored models load");
        let (boxes, scores) = m.run_detector(vec![0.0; 3 * 128 * 128]).unwrap();
        assert_eq!((boxes.len(), scores.len()), (896 * 16, 896));
        let (points, _) = m.run_mesh(vec![0.0; 3 * 192 * 192]).unwrap();
        assert_eq!(points.len(), 468 * 3);
    }

    /// Each rewrite finds every place it is meant for, so the test below compares something:
    /// the mesh's PRelu activations all run as one pass, both models' depthwise convolutions
    /// all lose their padding and the stride-2 ones all change op.
    #[test]
    fn rewrites_apply_where_meant() {
        for (bytes, side, expected) in [
            (DETECTOR_ONNX, DETECTOR_SIZE, (0, 16, 3)),
            (MESH_ONNX, MESH_SIZE, (23, 20, 6)),
        ] {
            let mut typed = onnx()
                .model_for_read(&mut std::io::Cursor::new(bytes))
                .and_then(|m| {
                    m.with_input_fact(0, f32::fact([1, 3, side, side]).into())?
                        .into_typed()
                })
                .expect("model");
            super::super::pool::replace_pools(&mut typed).expect("pools");
            let padded = super::super::pad::pad_depthwise(&mut typed).expect("pads");
            let strided = super::super::depthwise::replace_strided(&mut typed).expect("stride 2");
            let prelus = typed
                .nodes()
                .iter()
                .filter(|n| n.op_is::<super::super::prelu::PreluPerChannel>())
                .count();
            assert_eq!((prelus, padded, strided), expected);
        }
    }

    /// The models as rewritten (PRelu, 2×2 max pools, padding, stride-2 depthwise) give stock
    /// tract's outputs to the bit.
    #[test]
    fn rewrites_change_no_output() {
        for (name, bytes, side) in [
            ("detector", DETECTOR_ONNX, DETECTOR_SIZE),
            ("mesh", MESH_ONNX, MESH_SIZE),
        ] {
            let input: Vec<f32> = (0..3 * side * side)
                .map(|i| ((i * 7919 % 255) as f32) / 255.0)
                .collect();
            let outputs = |fast: bool| -> Vec<Vec<u32>> {
                let plan = plan(name, bytes, side, fast).expect("plan");
                let out = run(&plan, input.clone(), side).expect("run");
                out.iter()
                    .map(|t| {
                        t.to_plain_array_view::<f32>()
                            .expect("f32")
                            .iter()
                            .map(|v| v.to_bits())
                            .collect()
                    })
                    .collect()
            };
            assert_eq!(outputs(true), outputs(false), "{name}");
        }
    }

    #[test]
    fn sampling_maps_pixel_centres() {
        let img = RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 0]));
        let t = sample_chw(
            &Pyramid::new(&img),
            4,
            (0.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (1.0, 0.0),
            None,
        );
        assert_eq!(t[2], 20.0);
        assert_eq!(t[16 + 3 * 4], 30.0);
    }
}
