//! Stride-2 depthwise convolutions for tract, in place of its own for both face models' nine.
//!
//! tract 0.23 vectorises a depthwise convolution only along a row it reads contiguously: a
//! stride-2 convolution reads every other input value, so it runs its scalar loop, one output
//! at a time (15 % of a check's time, more than all the stride-1 ones). This op splits each
//! input row into its even and odd columns once; every tap of an output row then reads a
//! contiguous run of one of them, and whole output rows accumulate at once, which the compiler
//! vectorises. The sum is tract's, in its order (the bias, then `tap × input` added tap by tap
//! in the kernel's row-major order, no fused multiply-add), so the values are tract's to the bit
//! (`models::tests::rewrites_change_no_output`).
//!
//! It applies to an unpadded (see `pad.rs`) float NCHW depthwise convolution of stride 2 and
//! dilation 1 with constant weights, the shape both models use.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;
use tract_onnx::tract_hir::internal::{
    EvalContext, EvalOp, Op, StaticName, TypedFact, TypedModelPatch, TypedOp, as_op, bail,
    format_err, op_as_typed_op, op_out_of_plan,
};

use super::op_io::{f32_output, f32_values, first_input, nchw_fact};

/// Outputs summed together, in registers.
const LANES: usize = 8;

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct DepthwiseStride2 {
    /// `[channels, 1, kh, kw]` (OIHW). The bias is the op's second input, one value per
    /// channel or one for all (it is not always a constant before tract's optimisation).
    kernel: Arc<Tensor>,
}

impl DepthwiseStride2 {
    fn kernel_hw(&self) -> (usize, usize) {
        let shape = self.kernel.shape();
        (shape[2], shape[3])
    }

    fn output_shape(&self, input: &[usize]) -> TractResult<[usize; 4]> {
        let &[n, c, h, w] = input else {
            bail!("DepthwiseStride2 on {input:?}")
        };
        let (kh, kw) = self.kernel_hw();
        if c != self.kernel.shape()[0] || h < kh || w < kw {
            bail!("DepthwiseStride2 of a {kh}×{kw} kernel on {input:?}");
        }
        Ok([n, c, (h - kh) / 2 + 1, (w - kw) / 2 + 1])
    }
}

impl Op for DepthwiseStride2 {
    fn name(&self) -> StaticName {
        "DepthwiseStride2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for DepthwiseStride2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = first_input("DepthwiseStride2", &inputs)?;
        let out_shape = self.output_shape(input.shape())?;
        let [n, c, oh, ow] = out_shape;
        let (h, w) = (input.shape()[2], input.shape()[3]);
        let (kh, kw) = self.kernel_hw();
        let data = f32_values(input)?;
        let kernel = self.kernel.to_plain_array_view::<f32>()?;
        let kernel = kernel
            .as_slice()
            .ok_or_else(|| format_err!("DepthwiseStride2 kernel not contiguous"))?;
        let bias = inputs
            .get(1)
            .ok_or_else(|| format_err!("DepthwiseStride2 without bias"))?
            .to_plain_array_view::<f32>()?;
        let bias: Vec<f32> = bias.iter().copied().collect();
        let bias_of = |channel: usize| match bias.len() {
            1 => Ok(bias[0]),
            n if n == c => Ok(bias[channel]),
            n => Err(format_err!(
                "DepthwiseStride2: {n} bias values for {c} channels"
            )),
        };
        // One input plane split by column parity, each row `half_w` long: the even columns,
        // and the odd ones (whose last is unused when the width is odd). Tap `kx` of output
        // column `ox` reads input column `2·ox + kx`, which is column `ox + kx / 2` of the
        // `kx % 2` half: a contiguous run for the whole output row.
        let half_w = w.div_ceil(2);
        if ow + (kw - 1) / 2 > half_w || 2 * (oh - 1) + kh > h {
            bail!("DepthwiseStride2: {h}×{w} input for a {oh}×{ow} output");
        }
        f32_output(&out_shape, |out| {
            let mut even = vec![0f32; h * half_w];
            let mut odd = vec![0f32; h * half_w];
            for (plane_index, (src, dst)) in data
                .chunks_exact(h * w)
                .zip(out.chunks_exact_mut(oh * ow))
                .enumerate()
            {
                let channel = plane_index % c;
                for ((row, e), o) in src
                    .chunks_exact(w)
                    .zip(even.chunks_exact_mut(half_w))
                    .zip(odd.chunks_exact_mut(half_w))
                {
                    for ((pair, e), o) in row.chunks_exact(2).zip(e.iter_mut()).zip(o.iter_mut()) {
                        *e = pair[0];
                        *o = pair[1];
                    }
                    if w % 2 == 1 {
                        e[half_w - 1] = row[w - 1];
                    }
                }
                let taps = &kernel[channel * kh * kw..(channel + 1) * kh * kw];
                let bias = bias_of(channel)?;
                for (oy, out_row) in dst.chunks_exact_mut(ow).enumerate() {
                    // Runs of `LANES` outputs keep their sums in registers through all the taps;
                    // the rest of the row is summed one output at a time, in the same order.
                    let whole = ow - ow % LANES;
                    for (run, out_run) in out_row[..whole].chunks_exact_mut(LANES).enumerate() {
                        let ox = run * LANES;
                        let mut acc = [bias; LANES];
                        for (ky, taps) in taps.chunks_exact(kw).enumerate() {
                            let row = (2 * oy + ky) * half_w;
                            for (kx, &tap) in taps.iter().enumerate() {
                                let half = if kx % 2 == 0 { &even } else { &odd };
                                let start = row + kx / 2 + ox;
                                let src: &[f32; LANES] = half[start..start + LANES].try_into()?;
                                for (a, &x) in acc.iter_mut().zip(src) {
                                    *a += tap * x;
                                }
                            }
                        }
                        out_run.copy_from_slice(&acc);
                    }
                    for (ox, o) in out_row.iter_mut().enumerate().skip(whole) {
                        let mut sum = bias;
                        for (ky, taps) in taps.chunks_exact(kw).enumerate() {
                            let row = (2 * oy + ky) * half_w;
                            for (kx, &tap) in taps.iter().enumerate() {
                                let half = if kx % 2 == 0 { &even } else { &odd };
                                sum += tap * half[row + kx / 2 + ox];
                            }
                        }
                        *o = sum;
                    }
                }
            }
            debug_assert_eq!(n * c * oh * ow, out.len());
            Ok(())
        })
    }
}

impl TypedOp for DepthwiseStride2 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = nchw_fact("DepthwiseStride2", inputs)?;
        Ok(tvec!(f32::fact(self.output_shape(shape)?)))
    }

    as_op!();
}

/// The op for `node`'s convolution, when it computes it exactly.
fn replacement(model: &TypedModel, node: &TypedNode) -> TractResult<Option<DepthwiseStride2>> {
    let Some(op) = node.op_as::<Conv>() else {
        return Ok(None);
    };
    let spec = &op.pool_spec;
    let applies = op.group > 1
        && op.group == spec.input_channels
        && op.group == spec.output_channels
        && op.q_params.is_none()
        && op.kernel_fmt == KernelFormat::OIHW
        && spec.data_format == DataFormat::NCHW
        && spec.padding == PaddingSpec::Valid
        && spec.strides.as_deref() == Some(&[2, 2][..])
        && spec
            .dilations
            .as_ref()
            .is_none_or(|d| d.iter().all(|&d| d == 1))
        && node.inputs.len() == 3;
    if !applies {
        return Ok(None);
    }
    let input = model.outlet_fact(node.inputs[0])?;
    let bias = model.outlet_fact(node.inputs[2])?;
    let Some(kernel) = model.outlet_fact(node.inputs[1])?.konst.clone() else {
        return Ok(None);
    };
    let channels = op.group;
    let shapes_fit = kernel.datum_type() == f32::datum_type()
        && kernel.rank() == 4
        && kernel.shape()[..2] == [channels, 1]
        && input.datum_type == f32::datum_type()
        && bias.datum_type == f32::datum_type()
        && bias
            .shape
            .as_concrete()
            .is_some_and(|s| s.iter().product::<usize>() == channels || s.iter().all(|&d| d == 1));
    Ok(shapes_fit.then_some(DepthwiseStride2 { kernel }))
}

/// Puts `DepthwiseStride2` in place of every convolution of `model` it computes exactly;
/// returns how many it replaced.
pub fn replace_strided(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    loop {
        let mut found = None;
        for node in model.nodes() {
            if let Some(op) = replacement(model, node)? {
                found = Some((node.id, op));
                break;
            }
        }
        let Some((id, op)) = found else {
            break;
        };
        let node = model.node(id).clone();
        let mut patch = TypedModelPatch::default();
        let input = patch.tap_model(model, node.inputs[0])?;
        let bias = patch.tap_model(model, node.inputs[2])?;
        let out = patch.wire_node(format!("{}.stride2", node.name), op, &[input, bias])?;
        patch.shunt_outside(model, id.into(), out[0])?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}
