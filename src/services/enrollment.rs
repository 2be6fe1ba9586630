//! 添加采集信息: enrollments from a collection code or, for freshmen, from typed details.
use campus_photo_codes::token::id_tail_matches;
use campus_photo_domain::{
    capture_guide,
    codes::{self, ProjectMode},
    id_number::{self, IdNumber},
    names,
    records::EnrollmentSource,
};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{collection_codes, sessions::Viewer};
use crate::{
    AppState,
    entities::{enrollment, failed_attempt, project, school},
    error::{AppError, AppResult, UserError, is_unique_violation},
};

/// Wrong ID-number tails an account may enter per window before it must wait.
pub const MAX_LAST4_FAILURES: u64 = 5;
pub const LAST4_WINDOW: Duration = Duration::hours(1);
const LAST4_KIND: &str = "ID_LAST4";

pub struct NewEnrollment<'a> {
    pub collection_code: &'a str,
    pub id_number_last4: &'a str,
    pub feature_code: &'a str,
    pub college: Option<&'a str>,
    pub major: Option<&'a str>,
}

pub struct NewFreshman<'a> {
    pub feature_code: &'a str,
    pub name: &'a str,
    pub id_number: &'a str,
    pub admission_number: &'a str,
    pub college: Option<&'a str>,
    pub major: Option<&'a str>,
}

fn optional_text(value: Option<&str>, field: &str, errors: &mut Vec<UserError>) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > 64 {
        errors.push(UserError::new("INVALID_TEXT", "内容过长（不超过 64 字）").on(field));
        return None;
    }
    Some(v.to_string())
}

/// The open project behind a feature code, checked against the enrollment path.
async fn open_project(
    state: &AppState,
    feature_code: &str,
    freshman_path: bool,
) -> AppResult<project::Model> {
    let invalid = || {
        AppError::user(
            "INVALID_FEATURE_CODE",
            "featureCode",
            "特征码错误，请向学校或班级确认",
        )
    };
    let normalised = codes::normalise_feature_code(feature_code).map_err(|_| invalid())?;
    let project = project::Entity::find()
        .filter(project::Column::FeatureCode.eq(normalised))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let is_freshman = project.mode == ProjectMode::Freshman;
    if is_freshman != freshman_path {
        let message = if is_freshman {
            "该特征码用于新生照片上传，请从“新生照片上传”入口登记"
        } else {
            "该特征码需要使用图像采集码登记，请从“添加采集信息”入口扫码"
        };
        return Err(AppError::user("WRONG_PROJECT_MODE", "featureCode", message));
    }
    let now = state.clock.now();
    if project.closed_at.is_some()
        || project.opens_at.is_some_and(|t| now < t)
        || project.closes_at.is_some_and(|t| now >= t)
    {
        return Err(AppError::user(
            "PROJECT_CLOSED",
            "featureCode",
            "该采集项目当前不在开放时间内",
        ));
    }
    Ok(project)
}

fn already_enrolled() -> AppError {
    // Never say which account holds it.
    AppError::user(
        "ALREADY_ENROLLED",
        "collectionCode",
        "该学生已在此采集项目中登记，无需重复添加；如有疑问请联系客服",
    )
}

async fn insert(state: &AppState, row: enrollment::ActiveModel) -> AppResult<enrollment::Model> {
    row.insert(&state.db).await.map_err(|e| {
        if is_unique_violation(&e) {
            already_enrolled()
        } else {
            e.into()
        }
    })
}

async fn recent_failures(state: &AppState, account_id: Uuid) -> AppResult<u64> {
    let since = state.clock.now() - LAST4_WINDOW;
    Ok(failed_attempt::Entity::find()
        .filter(failed_attempt::Column::AccountId.eq(account_id))
        .filter(failed_attempt::Column::Kind.eq(LAST4_KIND))
        .filter(failed_attempt::Column::CreatedAt.gt(since))
        .count(&state.db)
        .await?)
}

pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    input: NewEnrollment<'_>,
) -> AppResult<enrollment::Model> {
    let mut errors = Vec::new();
    let college = optional_text(input.college, "college", &mut errors);
    let major = optional_text(input.major, "major", &mut errors);
    let last4 = id_number::normalise_last4(input.id_number_last4);
    if last4.is_err() {
        errors.push(
            UserError::new("INVALID_ID_LAST4", "请输入身份证号后 4 位（数字或 X）")
                .on("idNumberLast4"),
        );
    }
    let code = collection_codes::verify_text(state, input.collection_code, "collectionCode");
    if let Err(AppError::User(e)) = &code {
        errors.extend(e.iter().cloned());
    }
    if !errors.is_empty() {
        return Err(AppError::User(errors));
    }
    let (code, last4) = (code?, last4.map_err(AppError::internal)?);
    let project = open_project(state, input.feature_code, false).await?;
    let school = school::Entity::find_by_id(project.school_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("project without school"))?;
    if school.code != code.claims.sch {
        return Err(AppError::user(
            "SCHOOL_MISMATCH",
            "featureCode",
            "特征码所属学校与采集码中的学校不一致，请确认特征码",
        ));
    }
    if recent_failures(state, viewer.account_id).await? >= MAX_LAST4_FAILURES {
        return Err(AppError::user(
            "TOO_MANY_ATTEMPTS",
            "idNumberLast4",
            "身份证号后 4 位输错次数过多，请 1 小时后再试",
        ));
    }
    if !id_tail_matches(&code.claims.idm, &last4) {
        failed_attempt::ActiveModel {
            id: Set(Uuid::now_v7()),
            account_id: Set(viewer.account_id),
            kind: Set(LAST4_KIND.into()),
            created_at: Set(state.clock.now()),
        }
        .insert(&state.db)
        .await?;
        return Err(AppError::user(
            "ID_LAST4_MISMATCH",
            "idNumberLast4",
            "身份证号后 4 位与采集码信息不符，请核对",
        ));
    }
    let c = code.claims;
    insert(
        state,
        enrollment::ActiveModel {
            id: Set(Uuid::now_v7()),
            account_id: Set(Some(viewer.account_id)),
            project_id: Set(project.id),
            school_id: Set(school.id),
            source: Set(EnrollmentSource::CollectionCode),
            identity_key: Set(format!("R:{}", c.sid)),
            registry_student_id: Set(Some(c.sid)),
            name_masked: Set(c.nm),
            name_encrypted: Set(None),
            id_number_masked: Set(c.idm),
            id_number_encrypted: Set(None),
            id_number_index: Set(None),
            college: Set(college.or(c.col)),
            major: Set(major.or(c.maj)),
            student_number: Set(c.xh),
            admission_number: Set(None),
            education_level: Set(c.lvl),
            graduation_year: Set(c.gy),
            code_expires_at: Set(Some(code.expires_at)),
            capture_guide_acknowledged_at: Set(None),
            capture_guide_version: Set(None),
            auto_checks_used: Set(0),
            name_index: Set(None),
            auto_checks_granted: Set(0),
            created_at: Set(state.clock.now()),
        },
    )
    .await
}

pub async fn add_freshman(
    state: &AppState,
    viewer: &Viewer,
    input: NewFreshman<'_>,
) -> AppResult<enrollment::Model> {
    let mut errors = Vec::new();
    let college = optional_text(input.college, "college", &mut errors);
    let major = optional_text(input.major, "major", &mut errors);
    let name = names::normalise_name(input.name);
    if let Err(e) = &name {
        errors.push(UserError::new("INVALID_NAME", e.to_string()).on("name"));
    }
    let today = state
        .clock
        .now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!()))
        .date_naive();
    let id = IdNumber::parse(input.id_number, today);
    if let Err(e) = &id {
        errors.push(UserError::new("INVALID_ID_NUMBER", e.to_string()).on("idNumber"));
    }
    let admission = input.admission_number.trim();
    if admission.is_empty()
        || admission.len() > 32
        || !admission
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        errors.push(
            UserError::new(
                "INVALID_ADMISSION_NUMBER",
                "录取通知书编号/考生号应为 1-32 位字母或数字",
            )
            .on("admissionNumber"),
        );
    }
    let (Ok(name), Ok(id), true) = (name, id, errors.is_empty()) else {
        return Err(AppError::User(errors));
    };
    let project = open_project(state, input.feature_code, true).await?;
    let index = state.crypto.blind_index(id.as_str());
    let encrypt = |v: &str| state.crypto.encrypt(v).map_err(AppError::internal);
    insert(
        state,
        enrollment::ActiveModel {
            id: Set(Uuid::now_v7()),
            account_id: Set(Some(viewer.account_id)),
            project_id: Set(project.id),
            school_id: Set(project.school_id),
            source: Set(EnrollmentSource::Freshman),
            identity_key: Set(format!("F:{index}")),
            registry_student_id: Set(None),
            name_masked: Set(names::mask_name(&name)),
            name_encrypted: Set(Some(encrypt(&name)?)),
            id_number_masked: Set(id.masked()),
            id_number_encrypted: Set(Some(encrypt(id.as_str())?)),
            id_number_index: Set(Some(index)),
            college: Set(college),
            major: Set(major),
            student_number: Set(None),
            admission_number: Set(Some(admission.to_string())),
            education_level: Set(None),
            graduation_year: Set(None),
            code_expires_at: Set(None),
            capture_guide_acknowledged_at: Set(None),
            capture_guide_version: Set(None),
            auto_checks_used: Set(0),
            name_index: Set(Some(super::search::name_index(state, &name))),
            auto_checks_granted: Set(0),
            created_at: Set(state.clock.now()),
        },
    )
    .await
    .map_err(|e| match e {
        AppError::User(mut errs) => {
            for err in &mut errs {
                err.field = Some(vec!["input".into(), "idNumber".into()]);
            }
            AppError::User(errs)
        }
        other => other,
    })
}

/// The viewer's own enrollment, or NOT_FOUND (someone else's looks the same as none).
pub async fn own(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<enrollment::Model> {
    enrollment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|e| e.account_id == Some(viewer.account_id))
        .ok_or(AppError::NotFound("找不到该采集信息"))
}

/// 我已阅读: records that the student read the current capture guide (the first time for each
/// version; reading the same version again keeps the first time).
pub async fn acknowledge_capture_guide(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<enrollment::Model> {
    let found = own(state, viewer, id).await?;
    if guide_read(&found) {
        return Ok(found);
    }
    let mut active: enrollment::ActiveModel = found.into();
    active.capture_guide_acknowledged_at = Set(Some(state.clock.now()));
    active.capture_guide_version = Set(Some(capture_guide::VERSION.into()));
    Ok(active.update(&state.db).await?)
}

/// Whether the student acknowledged the current version of the capture guide.
pub fn guide_read(row: &enrollment::Model) -> bool {
    row.capture_guide_version.as_deref() == Some(capture_guide::VERSION)
}

/// Refuses a take until the student acknowledged the current capture guide.
pub fn require_guide_read(row: &enrollment::Model) -> AppResult<()> {
    if guide_read(row) {
        return Ok(());
    }
    Err(AppError::user(
        "CAPTURE_GUIDE_NOT_READ",
        "enrollmentId",
        "请先阅读拍摄要求并点击“我已阅读”，再拍摄或上传照片",
    ))
}

pub async fn list_for(state: &AppState, account_id: Uuid) -> AppResult<Vec<enrollment::Model>> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::AccountId.eq(account_id))
        .order_by_desc(enrollment::Column::Id)
        .all(&state.db)
        .await?)
}
