//! What the face models' own tract ops (`pool.rs`, `pad.rs`, `depthwise.rs`, `prelu.rs`) share:
//! finding an input and reading it as one contiguous f32 slice, writing an output straight into
//! tract's tensor, and the concrete NCHW shape of an input fact.

use std::borrow::Cow;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{TypedFact, bail, format_err};

/// An op's first input.
pub fn first_input<'a>(op: &str, inputs: &'a [TValue]) -> TractResult<&'a TValue> {
    inputs
        .first()
        .ok_or_else(|| format_err!("{op} without input"))
}

/// `value`'s f32 values in memory order: borrowed when tract holds them contiguously (always, for
/// these models), else copied.
pub fn f32_values(value: &TValue) -> TractResult<Cow<'_, [f32]>> {
    let view = value.to_plain_array_view::<f32>()?;
    Ok(match view.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(view.iter().copied().collect()),
    })
}

/// A new f32 tensor of `shape`, filled by `fill` (it starts at zero). Written in place: an
/// `ndarray` handed to tract would be copied again.
pub fn f32_output(
    shape: &[usize],
    fill: impl FnOnce(&mut [f32]) -> TractResult<()>,
) -> TractResult<TVec<TValue>> {
    let mut tensor = Tensor::zero::<f32>(shape)?;
    let mut view = tensor.to_plain_array_view_mut::<f32>()?;
    let out = view
        .as_slice_mut()
        .ok_or_else(|| format_err!("a new tensor is not contiguous"))?;
    fill(out)?;
    Ok(tvec!(tensor.into_tvalue()))
}

/// The concrete 4-D shape of an op's first input fact.
pub fn nchw_fact<'a>(op: &str, inputs: &[&'a TypedFact]) -> TractResult<&'a [usize]> {
    let input = inputs
        .first()
        .ok_or_else(|| format_err!("{op} without input"))?;
    let shape = input
        .shape
        .as_concrete()
        .ok_or_else(|| format_err!("{op} needs a concrete shape"))?;
    if shape.len() != 4 || input.datum_type != f32::datum_type() {
        bail!("{op} on {input:?}");
    }
    Ok(shape)
}
