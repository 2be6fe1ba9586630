use crate::error::ApiResult;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use super::{
    context::ContextExt,
    guards::{ADMIN, RoleGuard, SIGNED_IN, STUDENT},
    types::{
        account::Account,
        collection_code::CollectionCodeInfo,
        enrollment::Enrollment,
        enums::{BackgroundColorGql, ProjectModeGql, RoleGql},
        photo::{Photo, PhotoSourceGql},
        project::Project,
        school::School,
    },
};
use crate::{
    error::{AppError, AppResult, UserError, into_payload},
    ids::NodeType,
    services::{accounts, catalogue, collection_codes, enrollment, photos, sessions},
};

pub struct Mutation;

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

#[derive(InputObject)]
pub struct AcknowledgeCaptureGuideInput {
    pub enrollment_id: ID,
}

fn enrollment_payload(
    result: AppResult<crate::entities::enrollment::Model>,
) -> ApiResult<EnrollmentPayload> {
    let (enrollment, user_errors) = into_payload(result)?;
    Ok(EnrollmentPayload {
        enrollment: enrollment.map(Enrollment),
        user_errors,
    })
}

async fn read_upload(ctx: &Context<'_>, upload: &Upload) -> AppResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let value = upload.value(ctx).map_err(AppError::internal)?;
    let mut bytes = Vec::new();
    tokio::fs::File::from_std(value.content)
        .read_to_end(&mut bytes)
        .await
        .map_err(AppError::internal)?;
    Ok(bytes)
}

#[derive(InputObject)]
pub struct SignInWithWeChatInput {
    /// wx.login code
    pub code: String,
    /// getPhoneNumber code
    pub phone_code: String,
    /// The agreement version the student accepted.
    pub agreement_version: String,
}

#[derive(InputObject)]
pub struct SignInStaffInput {
    pub username: String,
    pub password: String,
}

#[derive(SimpleObject, Default)]
pub struct SignInPayload {
    /// The bearer token: send it as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateSchoolInput {
    pub code: String,
    pub name: String,
}

#[derive(SimpleObject)]
pub struct SchoolPayload {
    pub school: Option<School>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct PrintLayoutInput {
    pub code: String,
    pub name: String,
    pub price_fen: i32,
}

#[derive(InputObject)]
pub struct CreateProjectInput {
    pub school_code: String,
    pub name: String,
    pub feature_code: String,
    pub mode: ProjectModeGql,
    pub price_fen: i32,
    pub order_number_prefix: String,
    pub allow_album_upload: Option<bool>,
    pub max_auto_checks: Option<i32>,
    pub background: Option<BackgroundColorGql>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub print_layouts: Option<Vec<PrintLayoutInput>>,
    pub prints_to_school: Option<bool>,
}

#[derive(SimpleObject)]
pub struct ProjectPayload {
    pub project: Option<Project>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateStaffAccountInput {
    pub username: String,
    pub password: String,
    pub role: RoleGql,
    pub school_code: Option<String>,
}

#[derive(SimpleObject)]
pub struct AccountPayload {
    pub account: Option<Account>,
    pub user_errors: Vec<UserError>,
}

fn sign_in_payload(
    result: crate::error::AppResult<accounts::SignedIn>,
) -> ApiResult<SignInPayload> {
    let (signed_in, user_errors) = into_payload(result)?;
    Ok(match signed_in {
        Some(s) => SignInPayload {
            token: Some(s.token),
            account: Some(Account(s.account)),
            user_errors,
        },
        None => SignInPayload {
            user_errors,
            ..Default::default()
        },
    })
}

#[Object]
impl Mutation {
    /// Reads a collection code (图像采集码) from a picture or from the text a scanner read, and
    /// returns what it says. Nothing is saved.
    #[graphql(guard = "RoleGuard::new(SIGNED_IN)")]
    async fn decode_collection_code(
        &self,
        ctx: &Context<'_>,
        input: DecodeCollectionCodeInput,
    ) -> ApiResult<DecodeCollectionCodePayload> {
        let state = ctx.state();
        let result = match (
            &input.image,
            input
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty()),
        ) {
            (Some(upload), _) => match read_upload(ctx, upload).await {
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

    /// 拍摄/上传照片: stores the photo and returns it with its preliminary check (初审) at once.
    /// Each check uses one of the enrollment's `autoChecksRemaining`.
    #[graphql(guard = "RoleGuard::new(STUDENT)")]
    async fn upload_photo(
        &self,
        ctx: &Context<'_>,
        input: UploadPhotoInput,
    ) -> ApiResult<UploadPhotoPayload> {
        let state = ctx.state();
        let viewer = ctx.viewer()?.clone();
        let id = state
            .ids
            .decode_as(NodeType::Enrollment, &input.enrollment_id)
            .ok_or(AppError::NotFound("找不到该采集信息"))?;
        let result = match read_upload(ctx, &input.file).await {
            Ok(bytes) => photos::upload(state, &viewer, id, input.source.into(), bytes).await,
            Err(e) => Err(e),
        };
        let (photo, user_errors) = into_payload(result)?;
        Ok(UploadPhotoPayload {
            photo: photo.map(Photo),
            user_errors,
        })
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
        let id = state
            .ids
            .decode_as(NodeType::Enrollment, &input.enrollment_id)
            .ok_or(AppError::NotFound("找不到该采集信息"))?;
        enrollment_payload(enrollment::acknowledge_capture_guide(state, &viewer, id).await)
    }

    /// 微信一键登录: signs a student in with the wx.login code and the getPhoneNumber code, after
    /// they accepted the current service agreement.
    async fn sign_in_with_we_chat(
        &self,
        ctx: &Context<'_>,
        input: SignInWithWeChatInput,
    ) -> ApiResult<SignInPayload> {
        let result = accounts::sign_in_student(
            ctx.state(),
            accounts::StudentSignIn {
                code: &input.code,
                phone_code: &input.phone_code,
                agreement_version: &input.agreement_version,
            },
        )
        .await;
        sign_in_payload(result)
    }

    /// Staff sign-in with username and password.
    async fn sign_in_staff(
        &self,
        ctx: &Context<'_>,
        input: SignInStaffInput,
    ) -> ApiResult<SignInPayload> {
        sign_in_payload(
            accounts::sign_in_staff(ctx.state(), &input.username, &input.password).await,
        )
    }

    /// Revokes the session whose token made this request.
    async fn sign_out(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let viewer = ctx.viewer()?;
        sessions::revoke(ctx.state(), viewer.session_id).await?;
        Ok(true)
    }

    /// Admin: adds a school.
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_school(
        &self,
        ctx: &Context<'_>,
        input: CreateSchoolInput,
    ) -> ApiResult<SchoolPayload> {
        let (school, user_errors) =
            into_payload(catalogue::create_school(ctx.state(), &input.code, &input.name).await)?;
        Ok(SchoolPayload {
            school: school.map(School),
            user_errors,
        })
    }

    /// Admin: adds a collection project with its feature code (特征码).
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> ApiResult<ProjectPayload> {
        let new = catalogue::NewProject {
            school_code: input.school_code,
            name: input.name,
            feature_code: input.feature_code,
            mode: input.mode.into(),
            price_fen: input.price_fen.into(),
            order_number_prefix: input.order_number_prefix,
            allow_album_upload: input.allow_album_upload,
            max_auto_checks: input.max_auto_checks,
            background: input.background.map(Into::into),
            opens_at: input.opens_at,
            closes_at: input.closes_at,
            print_layouts: input
                .print_layouts
                .unwrap_or_default()
                .into_iter()
                .map(|l| catalogue::PrintLayout {
                    code: l.code,
                    name: l.name,
                    price_fen: l.price_fen.into(),
                })
                .collect(),
            prints_to_school: input.prints_to_school,
        };
        let (project, user_errors) =
            into_payload(catalogue::create_project(ctx.state(), new).await)?;
        Ok(ProjectPayload {
            project: project.map(Project),
            user_errors,
        })
    }

    /// Admin: adds a reviewer, producer, school admin or admin.
    #[graphql(guard = "RoleGuard::new(ADMIN)")]
    async fn create_staff_account(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffAccountInput,
    ) -> ApiResult<AccountPayload> {
        let result = accounts::create_staff(
            ctx.state(),
            accounts::NewStaff {
                username: &input.username,
                password: &input.password,
                role: input.role.into(),
                school_code: input.school_code.as_deref(),
            },
        )
        .await;
        let (account, user_errors) = into_payload(result)?;
        Ok(AccountPayload {
            account: account.map(Account),
            user_errors,
        })
    }
}
