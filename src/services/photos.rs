//! 拍摄/上传照片: stores the original, runs the preliminary check (初审) and renders a preview of the
//! standard photo. Bad files are refused before anything is stored.
use bytes::Bytes;
use campus_photo_domain::codes::BackgroundColor;
use campus_photo_domain::reasons::{IssueKind, issue_kind};
use campus_photo_imaging::{CheckReport, CheckSpec, FaceGeometry, Severity, Verdict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{cpu, enrollment, sessions::Viewer};
use crate::{
    AppState,
    entities::{enrollment as enrollment_entity, photo, project},
    error::{AppError, AppResult},
    storage::{content_key, sha256_hex},
};

pub use campus_photo_domain::records::PhotoSource;

/// What the CPU job hands back: everything to store, nothing stored yet.
struct Checked {
    width: u32,
    height: u32,
    content_type: &'static str,
    extension: &'static str,
    report: CheckReport,
}

pub(crate) fn extension_of(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    }
}

pub async fn upload(
    state: &AppState,
    viewer: &Viewer,
    enrollment_id: Uuid,
    source: PhotoSource,
    bytes: Vec<u8>,
) -> AppResult<photo::Model> {
    let found = enrollment::own(state, viewer, enrollment_id).await?;
    enrollment::require_guide_read(&found)?;
    let project = project::Entity::find_by_id(found.project_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("enrollment without project"))?;
    if source == PhotoSource::Album && !project.allow_album_upload {
        return Err(AppError::user(
            "ALBUM_NOT_ALLOWED",
            "source",
            "本项目要求现场拍摄，不能从相册选择照片",
        ));
    }
    // The project's allowance plus what an operator granted this enrollment.
    let allowance = project.max_auto_checks + found.auto_checks_granted;
    if found.auto_checks_used >= allowance {
        return Err(exhausted(allowance));
    }
    let limits = state.decode_limits();
    let bytes = Bytes::from(bytes);
    let input = bytes.clone();
    let metrics = state.metrics.clone();
    let checked = cpu::run(state, move || {
        let started = std::time::Instant::now();
        let decoded = campus_photo_imaging::decode_upload(&input, &limits)
            .map_err(|e| AppError::user("FMT_FILE", "file", e.user_message()))?;
        let report = campus_photo_imaging::check(&decoded.image, &CheckSpec::default());
        metrics
            .check_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(Checked {
            width: decoded.width,
            height: decoded.height,
            content_type: decoded.content_type,
            extension: extension_of(decoded.content_type),
            report,
        })
    })
    .await?;

    let sha = sha256_hex(&bytes);
    let object_key = content_key("originals", &sha, checked.extension);
    state.storage.put(&object_key, bytes.clone()).await?;
    let report_json =
        serde_json::to_value(StoredCheck::from(&checked.report)).map_err(AppError::internal)?;
    let face_json = checked
        .report
        .face
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(AppError::internal)?;

    let txn = crate::db::begin_write(&state.db).await?;
    // Count the attempt only while attempts remain: two uploads at once cannot both take the last.
    let counted = enrollment_entity::Entity::update_many()
        .col_expr(
            enrollment_entity::Column::AutoChecksUsed,
            Expr::col(enrollment_entity::Column::AutoChecksUsed).add(1),
        )
        .filter(enrollment_entity::Column::Id.eq(found.id))
        .filter(Expr::col(enrollment_entity::Column::AutoChecksUsed).lt(
            Expr::col(enrollment_entity::Column::AutoChecksGranted).add(project.max_auto_checks),
        ))
        .exec(&txn)
        .await?;
    if counted.rows_affected == 0 {
        txn.rollback().await?;
        return Err(exhausted(allowance));
    }
    let row = photo::ActiveModel {
        id: Set(Uuid::now_v7()),
        enrollment_id: Set(found.id),
        source: Set(source),
        object_key: Set(object_key),
        sha256: Set(sha),
        width: Set(i32::try_from(checked.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(checked.height).unwrap_or(i32::MAX)),
        byte_size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        content_type: Set(checked.content_type.into()),
        verdict: Set(checked.report.verdict),
        check_report: Set(report_json),
        face_geometry: Set(face_json),
        // Rendered when first viewed (see `preview`), so an upload costs only decode + check.
        preview_key: Set(None),
        created_at: Set(state.clock.now()),
        manual_review_granted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

fn exhausted(max: i32) -> AppError {
    AppError::user(
        "AUTO_CHECKS_EXHAUSTED",
        "enrollmentId",
        format!("自动检测次数（{max} 次）已用完，请联系客服人工处理"),
    )
}

/// The stored face geometry of a photo, for rendering later.
pub fn face_of(photo: &photo::Model) -> Option<FaceGeometry> {
    photo
        .face_geometry
        .clone()
        .and_then(|j| serde_json::from_value(j).ok())
}

/// The check as stored with the photo: owned and independent of the imaging crate's types, so
/// stored rows keep reading the same after the check changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredCheck {
    pub verdict: Verdict,
    pub issues: Vec<StoredIssue>,
    pub measures: Vec<StoredMeasure>,
}

impl StoredCheck {
    /// `None` when the photo passed; `Hard` when any error is an objective fault (no face,
    /// several faces, unreadable, too few pixels), `Soft` when every error is a measured
    /// judgement. Derived from the codes, so checks stored before kinds existed read the same.
    pub fn failure_kind(&self) -> Option<IssueKind> {
        if self.verdict == Verdict::Passed {
            return None;
        }
        let hard = self
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .any(|i| issue_kind(&i.code) == IssueKind::Hard);
        // A FAILED check with no error listed is not something a reviewer can judge.
        let any_error = self.issues.iter().any(|i| i.severity == Severity::Error);
        Some(if hard || !any_error {
            IssueKind::Hard
        } else {
            IssueKind::Soft
        })
    }

    /// Whether the photo may be submitted with `manualReview` (提交人工审核).
    pub fn manual_review_allowed(&self) -> bool {
        self.failure_kind() == Some(IssueKind::Soft)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredIssue {
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredMeasure {
    pub name: String,
    pub value: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl From<&CheckReport> for StoredCheck {
    fn from(r: &CheckReport) -> Self {
        Self {
            verdict: r.verdict,
            issues: r
                .issues
                .iter()
                .map(|i| StoredIssue {
                    code: i.code.into(),
                    severity: i.severity,
                    message: i.message.into(),
                })
                .collect(),
            measures: r
                .measures
                .iter()
                .map(|m| StoredMeasure {
                    name: m.name.into(),
                    value: m.value,
                    min: m.min,
                    max: m.max,
                })
                .collect(),
        }
    }
}

pub fn stored_check(photo: &photo::Model) -> AppResult<StoredCheck> {
    serde_json::from_value(photo.check_report.clone()).map_err(AppError::internal)
}

/// The enrollment's photos, newest first, paged.
pub async fn page_for(
    state: &AppState,
    enrollment_id: Uuid,
    args: &crate::services::paging::PageArgs,
) -> AppResult<crate::services::paging::Page<photo::Model>> {
    crate::services::paging::page_by_id(
        &state.db,
        photo::Entity::find().filter(photo::Column::EnrollmentId.eq(enrollment_id)),
        photo::Column::Id,
        true,
        args,
        &state.ids,
        crate::ids::NodeType::Photo,
    )
    .await
}

/// The standard 480×640 preview of a photo: rendered from the stored original on first request,
/// then kept in storage. None when the check found no face to crop around.
pub async fn preview(state: &AppState, photo_id: Uuid) -> AppResult<Option<Bytes>> {
    let Some(row) = photo::Entity::find_by_id(photo_id).one(&state.db).await? else {
        return Ok(None);
    };
    if let Some(key) = &row.preview_key
        && let Some(bytes) = state.storage.get(key).await?
    {
        return Ok(Some(bytes));
    }
    let Some(face) = face_of(&row) else {
        return Ok(None);
    };
    let background = enrollment_entity::Entity::find_by_id(row.enrollment_id)
        .find_also_related(project::Entity)
        .one(&state.db)
        .await?
        .and_then(|(_, p)| p)
        .map(|p| p.background)
        .unwrap_or(BackgroundColor::Blue);
    let original = state
        .storage
        .get(&row.object_key)
        .await?
        .ok_or_else(|| AppError::internal("photo original missing from storage"))?;
    let limits = state.decode_limits();
    let metrics = state.metrics.clone();
    let jpeg = cpu::run(state, move || {
        let started = std::time::Instant::now();
        let decoded =
            campus_photo_imaging::decode_upload(&original, &limits).map_err(AppError::internal)?;
        let (r, g, b) = background.rgb();
        let rendered = campus_photo_imaging::render_standard(
            &decoded.image,
            &face,
            [r, g, b],
            Default::default(),
        )
        .map(|rendered| rendered.jpeg)
        .map_err(AppError::internal);
        metrics
            .render_seconds
            .observe(started.elapsed().as_secs_f64());
        rendered
    })
    .await?;
    let key = content_key("previews", &sha256_hex(&jpeg), "jpg");
    let jpeg = Bytes::from(jpeg);
    state.storage.put(&key, jpeg.clone()).await?;
    photo::Entity::update_many()
        .col_expr(photo::Column::PreviewKey, Expr::value(key))
        .filter(photo::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    Ok(Some(jpeg))
}
