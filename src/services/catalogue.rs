//! Schools and collection projects, created by admins.
use campus_photo_domain::{
    codes::{self, BackgroundColor, ProjectMode},
    order_number,
};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    entities::{project, school},
    error::{AppError, AppResult, UserError, is_unique_violation},
};

pub async fn create_school(state: &AppState, code: &str, name: &str) -> AppResult<school::Model> {
    let mut errors = Vec::new();
    let code = code.trim();
    if codes::validate_school_code(code).is_err() {
        errors.push(UserError::new("INVALID_SCHOOL_CODE", "院校代码为 5 位数字").on("code"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(UserError::new("INVALID_NAME", "学校名称不能为空且不超过 100 字").on("name"));
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }
    school::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code.to_string()),
        name: Set(name.to_string()),
        created_at: Set(state.clock.now()),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::user("SCHOOL_EXISTS", "code", "该院校代码已存在")
        } else {
            e.into()
        }
    })
}

pub async fn school_by_code(state: &AppState, code: &str) -> AppResult<Option<school::Model>> {
    Ok(school::Entity::find()
        .filter(school::Column::Code.eq(code.trim()))
        .one(&state.db)
        .await?)
}

/// A paper-print layout offered by a project (加洗).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrintLayout {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
}

pub struct NewProject {
    pub school_code: String,
    pub name: String,
    pub feature_code: String,
    pub mode: ProjectMode,
    pub price_fen: i64,
    pub order_number_prefix: String,
    pub allow_album_upload: Option<bool>,
    pub max_auto_checks: Option<i32>,
    pub background: Option<BackgroundColor>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub print_layouts: Vec<PrintLayout>,
    pub prints_to_school: Option<bool>,
    pub pay_first: Option<bool>,
}

/// The automatic-check allowance a project gets when the admin does not say.
pub const DEFAULT_MAX_AUTO_CHECKS: i32 = 10;

pub async fn create_project(state: &AppState, input: NewProject) -> AppResult<project::Model> {
    let mut errors = Vec::new();
    let school = school_by_code(state, &input.school_code).await?;
    if school.is_none() {
        errors.push(UserError::new("SCHOOL_NOT_FOUND", "学校不存在").on("schoolCode"));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(UserError::new("INVALID_NAME", "项目名称不能为空且不超过 100 字").on("name"));
    }
    let feature_code = codes::normalise_feature_code(&input.feature_code);
    if feature_code.is_err() {
        errors.push(
            UserError::new("INVALID_FEATURE_CODE", "特征码为 4-6 位字母或数字").on("featureCode"),
        );
    }
    if !(0..=100_000_000).contains(&input.price_fen) {
        errors
            .push(UserError::new("INVALID_PRICE", "价格需在 0 到 1,000,000 元之间").on("priceFen"));
    }
    if order_number::validate_prefix(&input.order_number_prefix).is_err() {
        errors.push(
            UserError::new("INVALID_ORDER_NUMBER_PREFIX", "订单号前缀为 4-6 位数字")
                .on("orderNumberPrefix"),
        );
    }
    let max_auto_checks = input.max_auto_checks.unwrap_or(DEFAULT_MAX_AUTO_CHECKS);
    if !(1..=100).contains(&max_auto_checks) {
        errors.push(
            UserError::new("INVALID_MAX_AUTO_CHECKS", "自动检测次数需在 1 到 100 之间")
                .on("maxAutoChecks"),
        );
    }
    if let (Some(opens), Some(closes)) = (input.opens_at, input.closes_at)
        && closes <= opens
    {
        errors.push(UserError::new("INVALID_WINDOW", "结束时间必须晚于开始时间").on("closesAt"));
    }
    let mut layout_codes = std::collections::HashSet::new();
    for layout in &input.print_layouts {
        if layout.code.trim().is_empty()
            || layout.name.trim().is_empty()
            || !(1..=10_000_000).contains(&layout.price_fen)
            || !layout_codes.insert(layout.code.trim().to_string())
        {
            errors.push(
                UserError::new(
                    "INVALID_PRINT_LAYOUT",
                    "冲印规格需有唯一代码、名称和正数价格",
                )
                .on("printLayouts"),
            );
            break;
        }
    }
    let (Some(school), Ok(feature_code), true) = (school, feature_code, errors.is_empty()) else {
        return Err(AppError::User(errors));
    };
    let layouts = serde_json::to_value(&input.print_layouts).map_err(AppError::internal)?;
    project::ActiveModel {
        id: Set(Uuid::now_v7()),
        school_id: Set(school.id),
        name: Set(name.to_string()),
        feature_code: Set(feature_code),
        mode: Set(input.mode),
        price_fen: Set(input.price_fen),
        order_number_prefix: Set(input.order_number_prefix.clone()),
        allow_album_upload: Set(input.allow_album_upload.unwrap_or(true)),
        max_auto_checks: Set(max_auto_checks),
        background: Set(input.background.unwrap_or(BackgroundColor::Blue)),
        opens_at: Set(input.opens_at),
        closes_at: Set(input.closes_at),
        print_layouts: Set(layouts),
        // Only CENTRAL (集采) projects can send prints to the school.
        prints_to_school: Set(
            input.prints_to_school.unwrap_or(false) && input.mode == ProjectMode::Central
        ),
        pay_first: Set(input.pay_first.unwrap_or(false)),
        created_at: Set(state.clock.now()),
        closed_at: Set(None),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
        // The feature code is the only unique column a project has: order-number prefixes may
        // be shared (numbers stay unique through their timestamp).
        if is_unique_violation(&e) {
            AppError::user(
                "FEATURE_CODE_TAKEN",
                "featureCode",
                "该特征码已被其他项目使用",
            )
        } else {
            e.into()
        }
    })
}

pub fn print_layouts(project: &project::Model) -> Vec<PrintLayout> {
    serde_json::from_value(project.print_layouts.clone()).unwrap_or_default()
}

/// `createProject` by an admin: the project, and its audit record (PROJECT_CREATED).
pub async fn create_project_by(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    input: NewProject,
) -> AppResult<project::Model> {
    let created = create_project(state, input).await?;
    let change = super::audit::Change {
        action: "PROJECT_CREATED",
        target: super::audit::Target::Project,
        target_id: created.id,
        school_id: Some(created.school_id),
        before: None,
        after: Some(snapshot(&created)),
    };
    super::audit::record(&state.db, viewer, change, state.clock.now()).await?;
    Ok(created)
}

/// What `updateProject` may change; `None` leaves a value as it is.
#[derive(Debug, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    /// For orders created from now on: existing orders keep the price they were made with.
    pub price_fen: Option<i64>,
    pub feature_code: Option<String>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub allow_album_upload: Option<bool>,
    pub max_auto_checks: Option<i32>,
    pub background: Option<BackgroundColor>,
}

/// A project the viewer may administer: NOT_FOUND when unknown or of another school (ids
/// reveal nothing), FORBIDDEN for roles that do not administer.
pub async fn administered_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    id: Uuid,
) -> AppResult<project::Model> {
    super::scope::require(viewer, super::scope::Duty::Administer)?;
    let found = project::find(&state.db, id).await?;
    if !super::scope::Scope::of(viewer).covers(found.school_id) {
        return Err(AppError::NotFound("找不到该采集项目"));
    }
    Ok(found)
}

/// What the audit trail keeps of a project.
fn snapshot(p: &project::Model) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "featureCode": p.feature_code,
        "priceFen": p.price_fen,
        "opensAt": p.opens_at,
        "closesAt": p.closes_at,
        "closedAt": p.closed_at,
        "allowAlbumUpload": p.allow_album_upload,
        "maxAutoChecks": p.max_auto_checks,
        "background": p.background.as_str(),
    })
}

fn window_error(field: &str) -> UserError {
    UserError::new("INVALID_WINDOW", "结束时间必须晚于开始时间").on(field)
}

/// Saves `next` over `before` with its audit record, in one transaction. A feature code another
/// project holds is FEATURE_CODE_TAKEN.
async fn save_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    action: &'static str,
    before: project::Model,
    next: project::ActiveModel,
) -> AppResult<project::Model> {
    let now = state.clock.now();
    let before_json = snapshot(&before);
    state
        .write(async |txn| {
            let saved = next.update(txn).await.map_err(|e| {
                if is_unique_violation(&e) {
                    feature_code_taken()
                } else {
                    e.into()
                }
            })?;
            super::audit::record(
                txn,
                viewer,
                super::audit::Change {
                    action,
                    target: super::audit::Target::Project,
                    target_id: saved.id,
                    school_id: Some(saved.school_id),
                    before: Some(before_json),
                    after: Some(snapshot(&saved)),
                },
                now,
            )
            .await?;
            Ok(saved)
        })
        .await
}

fn feature_code_taken() -> AppError {
    AppError::user(
        "FEATURE_CODE_TAKEN",
        "featureCode",
        "该特征码已被其他项目使用",
    )
}

/// `updateProject`: name, price (for orders not yet created), feature code, window, album
/// uploads, automatic-check allowance, background colour.
pub async fn update_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    id: Uuid,
    changes: ProjectChanges,
) -> AppResult<project::Model> {
    let found = administered_project(state, viewer, id).await?;
    let mut errors = Vec::new();
    let mut next: project::ActiveModel = found.clone().into();
    if let Some(name) = &changes.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors
                .push(UserError::new("INVALID_NAME", "项目名称不能为空且不超过 100 字").on("name"));
        }
        next.name = Set(name.to_string());
    }
    if let Some(price) = changes.price_fen {
        if !(0..=100_000_000).contains(&price) {
            errors.push(
                UserError::new("INVALID_PRICE", "价格需在 0 到 1,000,000 元之间").on("priceFen"),
            );
        }
        next.price_fen = Set(price);
    }
    if let Some(code) = &changes.feature_code {
        match codes::normalise_feature_code(code) {
            Ok(code) => {
                if code != found.feature_code {
                    let taken = project::Entity::find()
                        .filter(project::Column::FeatureCode.eq(code.as_str()))
                        .one(&state.db)
                        .await?
                        .is_some();
                    if taken {
                        errors.push(
                            UserError::new("FEATURE_CODE_TAKEN", "该特征码已被其他项目使用")
                                .on("featureCode"),
                        );
                    }
                }
                next.feature_code = Set(code);
            }
            Err(_) => errors.push(
                UserError::new("INVALID_FEATURE_CODE", "特征码为 4-6 位字母或数字")
                    .on("featureCode"),
            ),
        }
    }
    let opens = changes.opens_at.or(found.opens_at);
    let closes = changes.closes_at.or(found.closes_at);
    if let (Some(o), Some(c)) = (opens, closes)
        && c <= o
    {
        let field = if changes.closes_at.is_some() {
            "closesAt"
        } else {
            "opensAt"
        };
        errors.push(window_error(field));
    }
    next.opens_at = Set(opens);
    next.closes_at = Set(closes);
    if let Some(album) = changes.allow_album_upload {
        next.allow_album_upload = Set(album);
    }
    if let Some(max) = changes.max_auto_checks {
        if !(1..=100).contains(&max) {
            errors.push(
                UserError::new("INVALID_MAX_AUTO_CHECKS", "自动检测次数需在 1 到 100 之间")
                    .on("maxAutoChecks"),
            );
        }
        next.max_auto_checks = Set(max);
    }
    if let Some(background) = changes.background {
        next.background = Set(background);
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }
    save_project(state, viewer, "PROJECT_UPDATED", found, next).await
}

/// `closeProject`: no enrollment and no new order until reopened (PROJECT_CLOSED); orders
/// already paid go on through review and production.
pub async fn close_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    id: Uuid,
) -> AppResult<project::Model> {
    let found = administered_project(state, viewer, id).await?;
    if found.closed_at.is_some() {
        return Err(AppError::user(
            "PROJECT_ALREADY_CLOSED",
            "projectId",
            "该采集项目已关闭",
        ));
    }
    let mut next: project::ActiveModel = found.clone().into();
    next.closed_at = Set(Some(state.clock.now()));
    save_project(state, viewer, "PROJECT_CLOSED", found, next).await
}

/// `reopenProject`: undoes `closeProject` (the collection window still applies).
pub async fn reopen_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    id: Uuid,
) -> AppResult<project::Model> {
    let found = administered_project(state, viewer, id).await?;
    if found.closed_at.is_none() {
        return Err(AppError::user(
            "PROJECT_NOT_CLOSED",
            "projectId",
            "该采集项目未关闭，无需重新开放",
        ));
    }
    let mut next: project::ActiveModel = found.clone().into();
    next.closed_at = Set(None);
    save_project(state, viewer, "PROJECT_REOPENED", found, next).await
}

/// `extendProject`: moves the end of the collection window later (延期). The new end must be
/// in the future, after the start and after the current end.
pub async fn extend_project(
    state: &AppState,
    viewer: &super::sessions::Viewer,
    id: Uuid,
    closes_at: DateTime<Utc>,
) -> AppResult<project::Model> {
    let found = administered_project(state, viewer, id).await?;
    if found.opens_at.is_some_and(|o| closes_at <= o) {
        return Err(AppError::User(vec![window_error("closesAt")]));
    }
    if found.closes_at.is_some_and(|c| closes_at <= c) || closes_at <= state.clock.now() {
        return Err(AppError::user(
            "INVALID_WINDOW",
            "closesAt",
            "延期后的截止时间必须晚于当前截止时间和现在",
        ));
    }
    let mut next: project::ActiveModel = found.clone().into();
    next.closes_at = Set(Some(closes_at));
    save_project(state, viewer, "PROJECT_EXTENDED", found, next).await
}
