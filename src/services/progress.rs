//! 学校进度: where each student of a school stands — counts by stage, the list behind each
//! count, a CSV of it that Excel opens as it is (UTF-8 with a BOM), and a reminder to those who
//! have not finished (a subscription message, only with consent, at most one per student a day).
//!
//! A stage is a set of enrollments (bound to a student) of the school, not a step they are in
//! exclusively: a completed student also counts as enrolled, photo passed, submitted and paid.
use bytes::Bytes;
use campus_photo_domain::{
    order::{OrderNote, OrderStatus},
    records::Verdict,
};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Query, SelectStatement},
};
use uuid::Uuid;

use super::{
    catalogue, notifications,
    orders::transition::{self, By},
    paging::{Page, PageArgs, page_by_id},
    scope::{self, Duty, Scope},
    sessions::Viewer,
};
use crate::{
    AppState,
    entities::{account, enrollment, order, order_event, photo, school},
    error::{AppError, AppResult},
    ids::NodeType,
};

/// The stages a school's progress is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// 已登记: bound to a student.
    Enrolled,
    /// 照片已通过初审: at least one take passed the automatic check.
    PhotoPassed,
    /// 已提交: an order that is neither closed nor refunded.
    Submitted,
    /// 已支付: an order paid for and not refunded.
    Paid,
    /// 被驳回未重拍: an order rejected and not re-taken yet.
    RejectedNotRetaken,
    /// 制作中: an order approved and waiting for or in production.
    InProduction,
    /// 已完成.
    Completed,
    /// 已上报: a completed order the registry (学信网) accepted.
    Reported,
    /// 未完成: no completed order yet (who a reminder is for).
    NotFinished,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Enrolled,
        Stage::PhotoPassed,
        Stage::Submitted,
        Stage::Paid,
        Stage::RejectedNotRetaken,
        Stage::InProduction,
        Stage::Completed,
        Stage::Reported,
        Stage::NotFinished,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Enrolled => "已登记",
            Stage::PhotoPassed => "照片已通过初审",
            Stage::Submitted => "已提交",
            Stage::Paid => "已支付",
            Stage::RejectedNotRetaken => "被驳回未重拍",
            Stage::InProduction => "制作中",
            Stage::Completed => "已完成",
            Stage::Reported => "已上报",
            Stage::NotFinished => "未完成",
        }
    }

    fn file_part(self) -> &'static str {
        match self {
            Stage::Enrolled => "enrolled",
            Stage::PhotoPassed => "photo-passed",
            Stage::Submitted => "submitted",
            Stage::Paid => "paid",
            Stage::RejectedNotRetaken => "rejected",
            Stage::InProduction => "in-production",
            Stage::Completed => "completed",
            Stage::Reported => "reported",
            Stage::NotFinished => "not-finished",
        }
    }
}

/// Which school (and optionally which of its projects) a progress view is of.
#[derive(Debug, Clone, Copy)]
pub struct Of {
    pub school_id: Uuid,
    pub project_id: Option<Uuid>,
}

/// The school named by `code`, if the viewer covers it; unknown and out-of-scope schools are
/// both NOT_FOUND. A project, when given, must be of that school.
pub async fn resolve(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    project_id: Option<Uuid>,
) -> AppResult<(school::Model, Of)> {
    if !viewer.is_staff() {
        return Err(AppError::Forbidden);
    }
    let school = catalogue::school_by_code(state, code)
        .await?
        .filter(|s| Scope::of(viewer).covers(s.id))
        .ok_or(AppError::NotFound("找不到该学校"))?;
    if let Some(p) = project_id {
        let project = crate::entities::project::find(&state.db, p).await?;
        if project.school_id != school.id {
            return Err(AppError::NotFound("找不到该采集项目"));
        }
    }
    let of = Of {
        school_id: school.id,
        project_id,
    };
    Ok((school, of))
}

fn orders_where(statuses: &[OrderStatus]) -> SelectStatement {
    Query::select()
        .column(order::Column::EnrollmentId)
        .from(order::Entity)
        .and_where(order::Column::Status.is_in(statuses.iter().copied()))
        .to_owned()
}

/// The enrollments of `of` at `stage`.
pub fn select(of: Of, stage: Stage) -> Select<enrollment::Entity> {
    use OrderStatus as S;
    let mut select = enrollment::Entity::find()
        .filter(enrollment::Column::SchoolId.eq(of.school_id))
        .filter(enrollment::Column::AccountId.is_not_null());
    if let Some(p) = of.project_id {
        select = select.filter(enrollment::Column::ProjectId.eq(p));
    }
    let id = enrollment::Column::Id;
    let live = [
        S::PendingPayment,
        S::Paid,
        S::PendingReview,
        S::Rejected,
        S::PendingProduction,
        S::InProduction,
        S::Completed,
    ];
    match stage {
        Stage::Enrolled => select,
        Stage::PhotoPassed => select.filter(
            id.in_subquery(
                Query::select()
                    .column(photo::Column::EnrollmentId)
                    .from(photo::Entity)
                    .and_where(photo::Column::Verdict.eq(Verdict::Passed))
                    .to_owned(),
            ),
        ),
        Stage::Submitted => select.filter(id.in_subquery(orders_where(&live))),
        Stage::Paid => select.filter(
            id.in_subquery(
                orders_where(&live)
                    .and_where(order::Column::PaidAt.is_not_null())
                    .to_owned(),
            ),
        ),
        Stage::RejectedNotRetaken => select.filter(id.in_subquery(orders_where(&[S::Rejected]))),
        Stage::InProduction => {
            select.filter(id.in_subquery(orders_where(&[S::PendingProduction, S::InProduction])))
        }
        Stage::Completed => select.filter(id.in_subquery(orders_where(&[S::Completed]))),
        Stage::Reported => select.filter(
            id.in_subquery(
                orders_where(&[S::Completed])
                    .and_where(
                        order::Column::Id.in_subquery(
                            Query::select()
                                .column(order_event::Column::OrderId)
                                .from(order_event::Entity)
                                .and_where(
                                    order_event::Column::Event
                                        .eq(OrderNote::RegistryReported.as_str()),
                                )
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            ),
        ),
        Stage::NotFinished => select.filter(id.not_in_subquery(orders_where(&[S::Completed]))),
    }
}

/// How many enrollments are at each stage.
pub async fn counts(state: &AppState, of: Of) -> AppResult<Vec<(Stage, i64)>> {
    let mut out = Vec::with_capacity(Stage::ALL.len());
    for stage in Stage::ALL {
        let n = select(of, stage).count(&state.db).await?;
        out.push((stage, i64::try_from(n).unwrap_or(i64::MAX)));
    }
    Ok(out)
}

/// The enrollments at `stage`, newest first.
pub async fn list(
    state: &AppState,
    of: Of,
    stage: Stage,
    args: &PageArgs,
) -> AppResult<Page<enrollment::Model>> {
    page_by_id(
        &state.db,
        select(of, stage),
        enrollment::Column::Id,
        true,
        args,
        &state.ids,
        NodeType::Enrollment,
    )
    .await
}

/// The most rows one CSV holds.
pub const MAX_CSV_ROWS: u64 = 50_000;

/// A CSV field, quoted when it must be (and a leading `=`, `+`, `-`, `@` made inert, so Excel
/// never runs a cell as a formula).
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The CSV of the enrollments at `stage`: UTF-8 with a byte-order mark and CRLF line ends, as
/// Excel opens it without asking. Names, ID numbers and phones are masked.
pub async fn csv(state: &AppState, of: Of, stage: Stage) -> AppResult<(Vec<u8>, usize)> {
    let rows = select(of, stage)
        .order_by_asc(enrollment::Column::Id)
        .limit(MAX_CSV_ROWS)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let accounts: Vec<Uuid> = rows.iter().filter_map(|e| e.account_id).collect();
    let mut latest = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for o in order::Entity::find()
            .filter(order::Column::EnrollmentId.is_in(chunk.iter().copied()))
            .order_by_asc(order::Column::Id)
            .all(&state.db)
            .await?
        {
            latest.insert(o.enrollment_id, o);
        }
    }
    let mut phones = std::collections::HashMap::new();
    for chunk in accounts.chunks(500) {
        for a in account::Entity::find()
            .filter(account::Column::Id.is_in(chunk.iter().copied()))
            .all(&state.db)
            .await?
        {
            phones.insert(a.id, a.phone_masked.unwrap_or_default());
        }
    }
    let mut out = String::from("\u{feff}");
    out.push_str("阶段,姓名,身份证号,学号,学院,专业,手机号,订单号,订单状态,登记时间\r\n");
    for e in &rows {
        let o = latest.get(&e.id);
        let cells = [
            stage.label().to_string(),
            e.name_masked.clone(),
            e.id_number_masked.clone(),
            e.student_number.clone().unwrap_or_default(),
            e.college.clone().unwrap_or_default(),
            e.major.clone().unwrap_or_default(),
            e.account_id
                .and_then(|a| phones.get(&a).cloned())
                .unwrap_or_default(),
            o.map(|o| o.number.clone()).unwrap_or_default(),
            o.map(|o| o.status.label().to_string()).unwrap_or_default(),
            e.created_at
                .with_timezone(
                    &chrono::FixedOffset::east_opt(8 * 3600)
                        .unwrap_or_else(|| unreachable!("a valid offset")),
                )
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((out.into_bytes(), rows.len()))
}

/// Stores the CSV of `stage` and returns its object key, the name it downloads as and its rows.
pub async fn export(
    state: &AppState,
    school: &school::Model,
    of: Of,
    stage: Stage,
) -> AppResult<(String, String, usize)> {
    let (bytes, rows) = csv(state, of, stage).await?;
    let key = format!("progress/{}-{}.csv", Uuid::now_v7(), stage.file_part());
    state.storage.put(&key, Bytes::from(bytes)).await?;
    let name = format!(
        "{}-{}-{}.csv",
        school.name,
        stage.label(),
        state.clock.now().format("%Y%m%d-%H%M%SZ")
    );
    Ok((key, name, rows))
}

/// What a reminder did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    /// Students a message went to.
    pub sent: i64,
    /// Students reminded already today.
    pub already_reminded: i64,
    /// Students not finished who gave no consent (or have no open order to give it on).
    pub without_consent: i64,
}

/// `remindUnfinishedStudents`: a subscription message to each student of `of` who has not
/// finished and consented (on their open order), at most one per student per day; the order's
/// trail records REMINDER_SENT.
pub async fn remind(state: &AppState, viewer: &Viewer, of: Of) -> AppResult<Reminded> {
    scope::require(viewer, Duty::Administer)?;
    let unfinished = select(of, Stage::NotFinished)
        .order_by_asc(enrollment::Column::Id)
        .all(&state.db)
        .await?;
    let mut done = Reminded::default();
    let mut seen = std::collections::HashSet::new();
    let now = state.clock.now();
    for e in unfinished {
        let Some(account_id) = e.account_id else {
            continue;
        };
        let open = order::Entity::find()
            .filter(order::Column::EnrollmentId.eq(e.id))
            .filter(order::Column::OpenIdentityKey.is_not_null())
            .one(&state.db)
            .await?
            .filter(|o| o.notification_consent && o.account_id == Some(account_id));
        let Some(open) = open else {
            done.without_consent += 1;
            continue;
        };
        if !seen.insert(account_id) {
            continue;
        }
        let key = notifications::finish_reminder_key(account_id, now);
        if notifications::reminded(state, key).await? {
            done.already_reminded += 1;
            continue;
        }
        let by = By::account(viewer.role.into(), viewer.account_id);
        let event = state
            .write(async |txn| {
                transition::record(
                    txn,
                    &open,
                    OrderNote::ReminderSent.as_str(),
                    by,
                    now,
                    transition::Detail::default(),
                )
                .await
            })
            .await?;
        match notifications::send_finish_reminder(state, &event, &open, key).await? {
            Some(_) => done.sent += 1,
            None => done.already_reminded += 1,
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(field("张*三"), "张*三");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }
}
