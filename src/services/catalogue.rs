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
