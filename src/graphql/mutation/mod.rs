//! Mutations, one module per area of the flow, merged into one root type.
mod account;
mod catalogue;
mod console;
mod enrollment;
mod orders;
mod overrides;
mod photos;
mod prints;
mod review;
mod sign_in;
mod support;

use async_graphql::{Context, MergedObject, Upload};

use crate::error::{AppError, AppResult};

pub use enrollment::{DecodeCollectionCodePayload, EnrollmentPayload};

#[derive(MergedObject, Default)]
pub struct Mutation(
    sign_in::SignInMutation,
    enrollment::EnrollmentMutation,
    photos::PhotoMutation,
    orders::OrderMutation,
    review::ReviewMutation,
    catalogue::CatalogueMutation,
    account::AccountMutation,
    support::SupportMutation,
    prints::PrintMutation,
    console::ConsoleMutation,
    console::ProgressMutation,
    overrides::OverrideMutation,
);

/// The uploads of a request whose body went past the size limit (by their index in the
/// request): the HTTP layer cut the body off there and hands the resolver an empty file, which it
/// refuses as too large (`FMT_FILE`) like any other file it cannot take.
#[derive(Debug, Clone, Default)]
pub struct OversizedUploads {
    pub indices: Vec<usize>,
    /// The largest upload accepted, in bytes.
    pub max_bytes: usize,
}

/// The FMT_FILE refusal of a file over the size limit, on `field` of the input.
pub fn too_large(field: &str, max_bytes: usize) -> AppError {
    AppError::user(
        "FMT_FILE",
        field,
        format!(
            "文件过大：上传不能超过 {} MB。请上传 JPG、PNG 或 WebP 格式的图片",
            max_bytes / (1024 * 1024)
        ),
    )
}

/// Reads a GraphQL multipart upload into memory (the HTTP layer has already bounded its size).
/// `field` names the input field, for the refusal of a file cut off at the body limit.
pub(crate) async fn read_upload(
    ctx: &Context<'_>,
    upload: &Upload,
    field: &str,
) -> AppResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    if let Some(oversized) = ctx.data_opt::<OversizedUploads>()
        && oversized.indices.contains(&upload.0)
    {
        return Err(too_large(field, oversized.max_bytes));
    }
    let value = upload.value(ctx).map_err(AppError::internal)?;
    let mut bytes = Vec::new();
    tokio::fs::File::from_std(value.content)
        .read_to_end(&mut bytes)
        .await
        .map_err(AppError::internal)?;
    Ok(bytes)
}
