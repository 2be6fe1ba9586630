//! 添加采集信息: collection codes and enrollments.
use crate::services::limits::Action;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};

use super::read_upload;
use crate::{
    error::{ApiResult, AppError, AppResult, UserError, into_payload},
    graphql::{
        context::ContextExt,
        guards::{RoleGuard, SIGNED_IN, STUDENT},
        types::{collection_code::CollectionCodeInfo, enrollment::Enrollment},
    },
    ids::NodeType,
    services::{collection_codes, enrollment},
};

#[derive(InputObject)]
pub struct DecodeCollectionCodeInput {
    /// A photo or screenshot of the QR.
    pub image: Option<Upload>,
    /// Or the decoded text.
    pub text: Option<String>,
}

#[derive(SimpleObject, Default)]
pub struct DecodeCollectionCodePayload {
    pub info: Option<CollectionCodeInfo>,
    /// The text inside the QR.
    pub text: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct AddEnrollmentInput {
    /// The text of the collection code (as decodeCollectionCode returned it).
    pub collection_code: String,
    /// The last 4 characters of the student's ID number.
    pub id_number_last4: String,
    /// The school's feature code (特征码).
    pub feature_code: String,
    pub college: Option<String>,
    pub major: Option<String>,
}

#[derive(InputObject)]
pub struct AddFreshmanEnrollmentInput {
    pub feature_code: String,
    pub name: String,
    pub id_number: String,
    pub admission_number: String,
    pub college: Option<String>,
    pub major: Option<String>,
}

#[derive(SimpleObject)]
pub struct EnrollmentPayload {
    pub enrollment: Option<Enrollment>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct AcknowledgeCaptureGuideInput {
    pub enrollment_id: ID,
}

fn enrollment_payload(
    result: AppResult<crate::entities::enrollment::Model>,
) -> ApiResult<EnrollmentPayload> {
    let (enrollment, user_errors) = into_payload(result)?;
    Ok(EnrollmentPayload {
        enrollment: enrollment.map(Enrollment::new),
        user_errors,
    })
}

#[derive(Default)]
pub struct EnrollmentMutation;

#[Object]
impl EnrollmentMutation {
    /// Reads a collection code (图像采集码) from a picture or from the text a scanner read, and
    /// returns what it says. Nothing is saved.
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn decode_collection_code(
        &self,
        ctx: &Context<'_>,
        input: DecodeCollectionCodeInput,
    ) -> ApiResult<DecodeCollectionCodePayload> {
        ctx.rate_limit(Action::DecodeCode).await?;
        let state = ctx.state();
        let result = match (
            &input.image,
            input
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty()),
        ) {
            (Some(upload), _) => match read_upload(ctx, upload, "image").await {
                Ok(bytes) => collection_codes::decode_image(state, bytes).await,
                Err(e) => Err(e),
            },
            (None, Some(text)) => collection_codes::verify_text(state, text, "text"),
            (None, None) => Err(AppError::user(
                "INPUT_REQUIRED",
                "image",
                "请上传采集码图片或输入采集码内容",
            )),
        };
        let (info, user_errors) = into_payload(result)?;
        Ok(match info {
            Some(info) => DecodeCollectionCodePayload {
                text: Some(info.text.clone()),
                info: Some(info.into()),
                user_errors,
            },
            None => DecodeCollectionCodePayload {
                user_errors,
                ..Default::default()
            },
        })
    }

    /// 添加采集信息: adds the student's collection info from a verified collection code, the
    /// last 4 of their ID number and the school's feature code.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn add_enrollment(
        &self,
        ctx: &Context<'_>,
        input: AddEnrollmentInput,
    ) -> ApiResult<EnrollmentPayload> {
        let viewer = ctx.viewer()?.clone();
        let result = enrollment::add(
            ctx.state(),
            &viewer,
            enrollment::NewEnrollment {
                collection_code: &input.collection_code,
                id_number_last4: &input.id_number_last4,
                feature_code: &input.feature_code,
                college: input.college.as_deref(),
                major: input.major.as_deref(),
            },
        )
        .await;
        enrollment_payload(result)
    }

    /// 新生照片上传: freshmen without a collection code register with their details.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn add_freshman_enrollment(
        &self,
        ctx: &Context<'_>,
        input: AddFreshmanEnrollmentInput,
    ) -> ApiResult<EnrollmentPayload> {
        let viewer = ctx.viewer()?.clone();
        let result = enrollment::add_freshman(
            ctx.state(),
            &viewer,
            enrollment::NewFreshman {
                feature_code: &input.feature_code,
                name: &input.name,
                id_number: &input.id_number,
                admission_number: &input.admission_number,
                college: input.college.as_deref(),
                major: input.major.as_deref(),
            },
        )
        .await;
        enrollment_payload(result)
    }

    /// 我已阅读: records that the student read the capture guide.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn acknowledge_capture_guide(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeCaptureGuideInput,
    ) -> ApiResult<EnrollmentPayload> {
        let state = ctx.state();
        let viewer = ctx.viewer()?.clone();
        let id = ctx.decode_id(NodeType::Enrollment, &input.enrollment_id)?;
        enrollment_payload(enrollment::acknowledge_capture_guide(state, &viewer, id).await)
    }
}
