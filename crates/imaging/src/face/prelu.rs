//! PRelu with a per-channel slope as one pass over the tensor.
//!
//! The face mesh's 23 PRelu activations have slopes from −0.6 to 1.24, so `max(x, alpha·x)` does
//! not apply. Written as tract ops, `max(x, 0) + alpha·min(x, 0)` runs as two fused element-wise
//! chains with a tensor between them. This op computes the same expression, in the same order,
//! for each value in one pass: the same values to the bit (`rewrites_change_no_output`).

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{
    EvalContext, EvalOp, Op, StaticName, TypedFact, TypedOp, as_op, bail, op_as_typed_op,
    op_out_of_plan,
};

use super::op_io::{f32_output, f32_values, nchw_fact};

/// Inputs: an NCHW f32 tensor and its slopes, one per channel (any shape of that many values,
/// or one value for all channels).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct PreluPerChannel;

impl Op for PreluPerChannel {
    fn name(&self) -> StaticName {
        "PreluPerChannel".into()
    }

    op_as_typed_op!();
}

impl EvalOp for PreluPerChannel {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let [input, slopes] = &inputs[..] else {
            bail!("PreluPerChannel takes two inputs")
        };
        let shape = input.shape();
        let &[n, c, h, w] = shape else {
            bail!("PreluPerChannel on {shape:?}")
        };
        let slopes: Vec<f32> = slopes
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect();
        if slopes.len() != c && slopes.len() != 1 {
            bail!("PreluPerChannel: {} slopes for {c} channels", slopes.len());
        }
        let data = f32_values(input)?;
        let plane = h * w;
        f32_output(&[n, c, h, w], |out| {
            if plane > 0 {
                for (i, (src, dst)) in data
                    .chunks_exact(plane)
                    .zip(out.chunks_exact_mut(plane))
                    .enumerate()
                {
                    let slope = slopes[if slopes.len() == 1 { 0 } else { i % c }];
                    for (o, &x) in dst.iter_mut().zip(src) {
                        *o = x.max(0.0) + x.min(0.0) * slope;
                    }
                }
            }
            Ok(())
        })
    }
}

impl TypedOp for PreluPerChannel {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(nchw_fact("PreluPerChannel", inputs)?)))
    }

    as_op!();
}
