use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::enrollment::Enrollment;
use crate::{
    entities::photo,
    error::{ApiResult, AppError},
    graphql::{
        context::ContextExt,
        loaders::{EnrollmentId, PhotoId, load},
    },
    ids::NodeType,
    services::photos::{self, PhotoSource},
    storage::links::{signed_preview_url, signed_url},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PhotoSource", remote = "PhotoSource")]
pub enum PhotoSourceGql {
    /// Taken with the camera in the mini-program.
    Camera,
    /// Picked from the phone's album.
    Album,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "campus_photo_domain::records::Verdict")]
pub enum CheckVerdict {
    /// 初审合格
    Passed,
    Failed,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "campus_photo_domain::records::Severity")]
pub enum Severity {
    /// Fails the check.
    Error,
    /// Shown to the student; does not fail the check.
    Warning,
}

/// Whether a fault of the preliminary check can be overruled by a reviewer.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "campus_photo_domain::reasons::IssueKind")]
pub enum IssueKind {
    /// An objective fault: unreadable file, too few pixels, no face, several faces.
    Hard,
    /// A measured judgement (pose, light, sharpness, background, framing, expression,
    /// overlays): a photo failed only for these may be submitted with `manualReview`.
    Soft,
}

#[derive(SimpleObject)]
pub struct PhotoIssue {
    /// A code of the shared catalogue (see `rejectionReasons`).
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// HARD for objective faults, SOFT for measured judgements.
    pub kind: IssueKind,
}

/// A raw measure of the check and the bounds it was held to.
#[derive(SimpleObject)]
pub struct PhotoMeasure {
    pub name: String,
    pub value: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(SimpleObject)]
pub struct PhotoCheck {
    /// PASSED is 初审合格
    pub verdict: CheckVerdict,
    pub issues: Vec<PhotoIssue>,
    pub measures: Vec<PhotoMeasure>,
    /// Null when the check passed; HARD when any error is an objective fault, SOFT when all
    /// are judgements.
    pub failure_kind: Option<IssueKind>,
    /// The photo failed on judgements only and may be submitted with `manualReview: true`
    /// (提交人工审核).
    pub manual_review_allowed: bool,
}

/// One take of a student's photo, with its preliminary check. Immutable.
///
/// The second field says the row is *lean*: read without its JSON columns (`check_report`,
/// `face_geometry`), as a page of orders reads it when the query does not ask for the check or
/// the preview. Those columns are then placeholders, and the fields that need them read the
/// whole row first.
#[derive(Clone)]
pub struct Photo(pub Arc<photo::Model>, pub bool);

impl Photo {
    pub fn new(row: photo::Model) -> Self {
        Self(Arc::new(row), false)
    }

    /// The row with its JSON columns.
    async fn whole(&self, ctx: &Context<'_>) -> ApiResult<Arc<photo::Model>> {
        if !self.1 {
            return Ok(Arc::clone(&self.0));
        }
        load(ctx, PhotoId(self.0.id))
            .await?
            .map(Arc::new)
            .ok_or_else(|| AppError::internal("photo vanished").into())
    }
}

#[Object]
impl Photo {
    pub async fn id(&self, ctx: &Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::Photo, self.0.id))
    }

    async fn enrollment(&self, ctx: &Context<'_>) -> ApiResult<Enrollment> {
        load(ctx, EnrollmentId(self.0.enrollment_id))
            .await?
            .map(Enrollment::new)
            .ok_or_else(|| AppError::internal("photo without enrollment").into())
    }

    async fn source(&self) -> PhotoSourceGql {
        self.0.source.into()
    }

    /// Pixels, after the EXIF orientation was applied.
    async fn width(&self) -> i32 {
        self.0.width
    }

    async fn height(&self) -> i32 {
        self.0.height
    }

    async fn byte_size(&self) -> i32 {
        i32::try_from(self.0.byte_size).unwrap_or(i32::MAX)
    }

    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// SHA-256 of the original file.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }

    /// An operator let this take go to a reviewer although the automatic check refused it: the
    /// student may submit it with `manualReview` (提交人工审核), whatever `check.failureKind` says.
    async fn manual_review_granted(&self) -> bool {
        self.0.manual_review_granted_at.is_some()
    }

    /// The preliminary check (初审).
    async fn check(&self, ctx: &Context<'_>) -> ApiResult<PhotoCheck> {
        let stored = photos::stored_check(&*self.whole(ctx).await?)?;
        let failure_kind = stored.failure_kind().map(IssueKind::from);
        let manual_review_allowed = stored.manual_review_allowed();
        Ok(PhotoCheck {
            verdict: stored.verdict.into(),
            issues: stored
                .issues
                .into_iter()
                .map(|i| PhotoIssue {
                    severity: i.severity.into(),
                    kind: campus_photo_domain::reasons::issue_kind(&i.code).into(),
                    code: i.code,
                    message: i.message,
                })
                .collect(),
            measures: stored
                .measures
                .into_iter()
                .map(|m| PhotoMeasure {
                    name: m.name,
                    value: m.value,
                    min: m.min,
                    max: m.max,
                })
                .collect(),
            failure_kind,
            manual_review_allowed,
        })
    }

    /// Signed, expiring download URL of the original.
    async fn url(&self, ctx: &Context<'_>) -> String {
        signed_url(ctx.state(), &self.0.object_key)
    }

    /// Signed, expiring URL of the standard 480×640 crop, so the student sees how it will look;
    /// null when no face was found.
    async fn preview_url(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let state = ctx.state();
        Ok(self
            .whole(ctx)
            .await?
            .face_geometry
            .as_ref()
            .map(|_| signed_preview_url(state, &state.ids.encode(NodeType::Photo, self.0.id))))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
