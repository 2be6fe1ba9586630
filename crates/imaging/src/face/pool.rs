//! A 2×2, stride-2 max pool for tract, in place of its own for the pools both face models use.
//!
//! tract 0.23's `OptMaxPool` takes a per-tap, bounds-checked path for stride 2 (its fast path is
//! for stride 1): about 150 instructions an output, 12 % of a check. This op reads each output's
//! four inputs as two pairs of neighbouring values in two rows, in the same order and with the
//! same comparison as tract (`f32::MIN`, then "replace if smaller"), so it gives the same values
//! to the bit. It is used only where it applies exactly: NCHW, a 2×2 kernel, stride 2, no
//! padding or dilation, even height and width, no index output.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::{MaxPool, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_hir::internal::{
    EvalContext, EvalOp, Op, StaticName, TypedFact, TypedOp, as_op, bail, op_as_typed_op,
    op_out_of_plan,
};

use super::op_io::{f32_output, f32_values, first_input, nchw_fact};

#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct MaxPool2x2;

impl Op for MaxPool2x2 {
    fn name(&self) -> StaticName {
        "MaxPool2x2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2x2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = first_input("MaxPool2x2", &inputs)?;
        let shape = input.shape();
        if shape.len() != 4 || shape[2] % 2 != 0 || shape[3] % 2 != 0 {
            bail!("MaxPool2x2 on {shape:?}");
        }
        let (h, w) = (shape[2], shape[3]);
        let (oh, ow) = (h / 2, w / 2);
        let data = f32_values(input)?;
        f32_output(&[shape[0], shape[1], oh, ow], |out| {
            for (plane, dst) in data.chunks_exact(h * w).zip(out.chunks_exact_mut(oh * ow)) {
                for (rows, dst) in plane.chunks_exact(2 * w).zip(dst.chunks_exact_mut(ow)) {
                    let (top, bottom) = rows.split_at(w);
                    for ((o, t), b) in dst
                        .iter_mut()
                        .zip(top.chunks_exact(2))
                        .zip(bottom.chunks_exact(2))
                    {
                        *o = max4(t[0], t[1], b[0], b[1]);
                    }
                }
            }
            Ok(())
        })
    }
}

/// tract's reduction: start from `f32::MIN`, take each tap that is greater, in order.
#[inline]
fn max4(a: f32, b: f32, c: f32, d: f32) -> f32 {
    let mut m = f32::MIN;
    for v in [a, b, c, d] {
        if m < v {
            m = v;
        }
    }
    m
}

impl TypedOp for MaxPool2x2 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let &[n, c, h, w] = nchw_fact("MaxPool2x2", inputs)? else {
            unreachable!("nchw_fact gives four dimensions")
        };
        Ok(tvec!(f32::fact([n, c, h / 2, w / 2])))
    }

    as_op!();
}

/// Whether `op` is a max pool this op computes exactly, given its input's shape.
fn replaceable(op: &MaxPool, input: &TypedFact) -> bool {
    let spec = &op.pool_spec;
    let no_padding = match &spec.padding {
        // "Same" padding of a 2×2, stride-2 window over an even side is none.
        PaddingSpec::Valid | PaddingSpec::SameUpper | PaddingSpec::SameLower => true,
        PaddingSpec::Explicit(b, a) | PaddingSpec::ExplicitOnnxPool(b, a, _) => {
            b.iter().chain(a.iter()).all(|&p| p == 0)
        }
    };
    let even = input
        .shape
        .as_concrete()
        .is_some_and(|s| s.len() == 4 && s[2] % 2 == 0 && s[3] % 2 == 0);
    op.with_index_outputs.is_none()
        && input.datum_type == f32::datum_type()
        && spec.data_format == DataFormat::NCHW
        && spec.kernel_shape.as_slice() == [2, 2]
        && spec.strides.as_deref() == Some(&[2, 2][..])
        && spec
            .dilations
            .as_ref()
            .is_none_or(|d| d.iter().all(|&d| d == 1))
        && no_padding
        && even
}

/// Puts `MaxPool2x2` in place of every max pool of `model` it computes exactly; returns how
/// many it replaced.
pub fn replace_pools(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in 0..model.nodes().len() {
        let node = model.node(id);
        let Some(op) = node.op_as::<MaxPool>() else {
            continue;
        };
        let Some(&input) = node.inputs.first() else {
            continue;
        };
        if replaceable(op, model.outlet_fact(input)?) {
            model.node_mut(id).op = Box::new(MaxPool2x2);
            replaced += 1;
        }
    }
    Ok(replaced)
}
