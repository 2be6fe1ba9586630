//! Mutations, one module per area of the flow, merged into one root type.
mod account;
mod catalogue;
mod enrollment;
mod orders;
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
);

/// Reads a GraphQL multipart upload into memory (the HTTP layer has already bounded its size).
pub(crate) async fn read_upload(ctx: &Context<'_>, upload: &Upload) -> AppResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let value = upload.value(ctx).map_err(AppError::internal)?;
    let mut bytes = Vec::new();
    tokio::fs::File::from_std(value.content)
        .read_to_end(&mut bytes)
        .await
        .map_err(AppError::internal)?;
    Ok(bytes)
}
