//! 拍摄/上传照片.
use crate::services::limits::Action;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};

use super::read_upload;
use crate::{
    error::{ApiResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{RoleGuard, STUDENT},
        types::photo::{Photo, PhotoSourceGql},
    },
    ids::NodeType,
    services::photos,
};

#[derive(InputObject)]
pub struct UploadPhotoInput {
    pub enrollment_id: ID,
    /// JPEG, PNG or WebP, at most 10 MiB.
    pub file: Upload,
    pub source: PhotoSourceGql,
}

#[derive(SimpleObject)]
pub struct UploadPhotoPayload {
    pub photo: Option<Photo>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct PhotoMutation;

#[Object]
impl PhotoMutation {
    /// 拍摄/上传照片: stores the photo and returns it with its preliminary check (初审) at once.
    /// Each check uses one of the enrollment's `autoChecksRemaining`.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn upload_photo(
        &self,
        ctx: &Context<'_>,
        input: UploadPhotoInput,
    ) -> ApiResult<UploadPhotoPayload> {
        ctx.rate_limit(Action::Upload).await?;
        let state = ctx.state();
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::Enrollment, &input.enrollment_id)?;
        let result = match read_upload(ctx, &input.file, "file").await {
            Ok(bytes) => photos::upload(state, &viewer, id, input.source.into(), bytes).await,
            Err(e) => Err(e),
        };
        let (photo, user_errors) = into_payload(result)?;
        Ok(UploadPhotoPayload {
            photo: photo.map(Photo::new),
            user_errors,
        })
    }
}
