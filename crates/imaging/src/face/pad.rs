//! Zero padding as an op of its own in front of the models' depthwise convolutions.
//!
//! tract 0.23 runs a padded depthwise convolution zone by zone: the interior in one vectorised
//! pass, every border zone (a different set of taps) through a generic per-pixel path. On the
//! small maps of both face models (3×3 kernels on maps of 3×3 to 96×96) the border is much of
//! the map: 42 of the 59 M instructions their depthwise convolutions took in a check went to the
//! border zones (callgrind, `collins_ok.jpg`). Padding the input first and convolving without
//! padding leaves one zone, the vectorised one. tract would fold a `Pad` op back into the
//! convolution (its own optimisation), so the padding is this op, which it does not know.
//!
//! The values are tract's own to the bit (`models::tests::rewrites_change_no_output`): a padded
//! tap adds `0 × weight`, which leaves a finite sum unchanged, and the taps keep their order.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::{Pad, PadMode};
use tract_onnx::tract_core::ops::cnn::{Conv, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_hir::internal::{
    EvalContext, EvalOp, Op, StaticName, TypedFact, TypedModelPatch, TypedOp, as_op, bail,
    op_as_typed_op, op_out_of_plan,
};

use super::op_io::{f32_output, f32_values, first_input, nchw_fact};

/// Zeros around the height and width of an NCHW f32 tensor.
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct ZeroPad2d {
    /// Rows, then columns.
    before: [usize; 2],
    after: [usize; 2],
}

impl ZeroPad2d {
    fn padded(&self, shape: &[usize]) -> TractResult<[usize; 4]> {
        let &[n, c, h, w] = shape else {
            bail!("ZeroPad2d on {shape:?}")
        };
        Ok([
            n,
            c,
            h + self.before[0] + self.after[0],
            w + self.before[1] + self.after[1],
        ])
    }
}

impl Op for ZeroPad2d {
    fn name(&self) -> StaticName {
        "ZeroPad2d".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ZeroPad2d {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = first_input("ZeroPad2d", &inputs)?;
        let shape = input.shape();
        let padded = self.padded(shape)?;
        let (h, w) = (shape[2], shape[3]);
        let (oh, ow) = (padded[2], padded[3]);
        let data = f32_values(input)?;
        f32_output(&padded, |out| {
            if w > 0 {
                for (src, dst) in data.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
                    for (y, row) in src.chunks_exact(w).enumerate() {
                        let start = (y + self.before[0]) * ow + self.before[1];
                        dst[start..start + w].copy_from_slice(row);
                    }
                }
            }
            Ok(())
        })
    }
}

impl TypedOp for ZeroPad2d {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(
            self.padded(nchw_fact("ZeroPad2d", inputs)?)?
        )))
    }

    as_op!();
}

/// Whether `op` is a float NCHW depthwise convolution (one input channel per group).
fn depthwise(op: &Conv) -> bool {
    op.group > 1
        && op.group == op.pool_spec.input_channels
        && op.q_params.is_none()
        && op.pool_spec.data_format == DataFormat::NCHW
}

/// Moves the zero padding of every depthwise convolution of `model` into a `ZeroPad2d` in
/// front of it: a convolution's own padding, and a constant-zero `Pad` op (over height and
/// width only) that feeds nothing but such convolutions. Returns how many it moved.
pub fn pad_depthwise(model: &mut TypedModel) -> TractResult<usize> {
    let mut moved = 0;
    // Explicit zero `Pad` ops become `ZeroPad2d` in place.
    for id in 0..model.nodes().len() {
        let node = model.node(id);
        let Some(pad) = node.op_as::<Pad>() else {
            continue;
        };
        let PadMode::Constant(value) = &pad.mode else {
            continue;
        };
        let [(0, 0), (0, 0), rows, cols] = pad.pads[..] else {
            continue;
        };
        let fact = model.outlet_fact(node.inputs[0])?;
        let feeds_only_depthwise = !node.outputs[0].successors.is_empty()
            && node.outputs[0]
                .successors
                .iter()
                .all(|s| s.slot == 0 && model.node(s.node).op_as::<Conv>().is_some_and(depthwise));
        if fact.datum_type != f32::datum_type() || !value.is_zero()? || !feeds_only_depthwise {
            continue;
        }
        model.node_mut(id).op = Box::new(ZeroPad2d {
            before: [rows.0, cols.0],
            after: [rows.1, cols.1],
        });
        moved += 1;
    }
    // A convolution's own padding: a `ZeroPad2d` node in front, and the convolution unpadded.
    // Each patch renumbers the nodes, so the search starts again after each.
    loop {
        let mut found = None;
        for node in model.nodes() {
            let Some(op) = node.op_as::<Conv>() else {
                continue;
            };
            let Some(shape) = model.outlet_fact(node.inputs[0])?.shape.as_concrete() else {
                continue;
            };
            if !depthwise(op) || shape.len() != 4 {
                continue;
            }
            let pads = op.pool_spec.computed_padding(&shape[2..]);
            if pads.iter().all(|p| p.pad_before == 0 && p.pad_after == 0) {
                continue;
            }
            let pad = ZeroPad2d {
                before: [pads[0].pad_before, pads[1].pad_before],
                after: [pads[0].pad_after, pads[1].pad_after],
            };
            found = Some((node.id, op.clone(), pad));
            break;
        }
        let Some((id, mut conv, pad)) = found else {
            break;
        };
        let node = model.node(id).clone();
        let mut patch = TypedModelPatch::default();
        let mut taps = patch.taps(model, &node.inputs)?;
        taps[0] = patch.wire_node(format!("{}.zero-pad", node.name), pad, &[taps[0]])?[0];
        conv.pool_spec.padding = PaddingSpec::Valid;
        let out = patch.wire_node(format!("{}.unpadded", node.name), conv, &taps)?;
        patch.shunt_outside(model, id.into(), out[0])?;
        patch.apply(model)?;
        moved += 1;
    }
    Ok(moved)
}
