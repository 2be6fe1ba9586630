//! PRelu with a per-channel slope as one pass over the tensor.
//!
//! The face mesh's 23 PRelu activations have slopes from −0.6 to 1.24, so `max(x, alpha·x)` does
//! not apply. Written as tract ops, `max(x, 0) + alpha·min(x, 0)` runs as two fused element-wise
//! chains with a tensor between them. This op computes the same expression, in the same order,
//! for each value in one pass: the same values to the bit (`rewrites_change_no_output`).

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{
    EvalContext, EvalOp, Op, StaticName, TypedFact, TypedOp, as_op, bail, format_err,
    op_as_typed_op, op_out_of_plan,
};

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
        let view = input.to_plain_array_view::<f32>()?;
        let data: std::borrow::Cow<'_, [f32]> = match view.as_slice() {
            Some(s) => s.into(),
            None => view.iter().copied().collect::<Vec<f32>>().into(),
        };
        // Written straight into tract's tensor: an `ndarray` handed over is copied again.
        let mut tensor = Tensor::zero::<f32>(&[n, c, h, w])?;
        let mut out_view = tensor.to_plain_array_view_mut::<f32>()?;
        let out = out_view
            .as_slice_mut()
            .ok_or_else(|| format_err!("PreluPerChannel output not contiguous"))?;
        let plane = h * w;
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
        Ok(tvec!(tensor.into_tvalue()))
    }
}

impl TypedOp for PreluPerChannel {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let input = inputs
            .first()
            .ok_or_else(|| format_err!("PreluPerChannel without input"))?;
        if input.rank() != 4 || input.datum_type != f32::datum_type() {
            bail!("PreluPerChannel on {input:?}");
        }
        Ok(tvec!(input.without_value()))
    }

    as_op!();
}
