//! 报至学信网: packages a school's completed standard photos not exported yet into a ZIP — one
//! JPEG per student named by registry student id, plus manifest.csv — and records which orders the
//! export carried. The registry's answer comes back as a CSV (student number, accepted or
//! rejected with a reason) that staff import: an accepted order is 已上报 on its trail, a rejected
//! one returns to 被驳回 (`REGISTRY_REJECTED`, with the registry's words) so the student re-takes,
//! and is exported again once it completes. A school admin's download of its own photos is a
//! copy (`SCHOOL_DOWNLOAD`): it marks nothing, so the producer's export still carries them.
use std::io::Write;

use bytes::Bytes;
use campus_photo_domain::{
    codes::Role,
    order::{Actor, OrderEvent, OrderNote, OrderStatus},
    reasons::REGISTRY_REJECTED,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::services::{
    orders::transition::{self, By, Detail},
    review::restore_auto_checks,
    scope::{self, Duty},
};

use super::{catalogue, cpu, sessions::Viewer};
use crate::{
    AppState,
    entities::{enrollment, order, registry_export, registry_export_item},
    error::{AppError, AppResult, UserError, is_unique_violation},
    services::scope::in_school_scope,
    storage::sha256_hex,
};

/// An export for the registry: its orders are marked exported and await the registry's answer.
pub const REGISTRY: &str = "REGISTRY";
/// A school admin's copy of its own photos: marks nothing.
pub const SCHOOL_DOWNLOAD: &str = "SCHOOL_DOWNLOAD";
const ACCEPTED: &str = "ACCEPTED";
const REJECTED: &str = "REJECTED";

/// One student's line in the package.
struct Entry {
    file_name: String,
    jpeg: Bytes,
    manifest: [String; 6],
}

pub async fn export(
    state: &AppState,
    viewer: &Viewer,
    school_code: &str,
) -> AppResult<registry_export::Model> {
    scope::require(viewer, Duty::ExportToRegistry)?;
    let school = catalogue::school_by_code(state, school_code.trim())
        .await?
        .ok_or_else(|| AppError::user("SCHOOL_NOT_FOUND", "schoolCode", "学校不存在"))?;
    in_school_scope(viewer, school.id)?;
    // A school admin downloads its own photos; only production reports to the registry.
    let purpose = if viewer.role == Role::SchoolAdmin {
        SCHOOL_DOWNLOAD
    } else {
        REGISTRY
    };
    let mut select = order::Entity::find()
        .filter(order::Column::SchoolId.eq(school.id))
        .filter(order::Column::Status.eq(OrderStatus::Completed));
    if purpose == REGISTRY {
        // Exported, unless the registry refused it: then it was re-taken and goes again.
        let exported = Query::select()
            .column(registry_export_item::Column::OrderId)
            .from(registry_export_item::Entity)
            .and_where(
                registry_export_item::Column::Outcome
                    .is_null()
                    .or(registry_export_item::Column::Outcome.ne(REJECTED)),
            )
            .to_owned();
        select = select.filter(order::Column::Id.not_in_subquery(exported));
    }
    let rows = select
        .order_by_asc(order::Column::Id)
        .find_also_related_enrollment(state)
        .await?;
    if rows.is_empty() {
        return Err(AppError::user(
            "NOTHING_TO_EXPORT",
            "schoolCode",
            "没有新的已完成照片可以报送",
        ));
    }
    let mut entries = Vec::with_capacity(rows.len());
    for (o, e) in &rows {
        let key = o
            .deliverable_key
            .as_deref()
            .ok_or_else(|| AppError::internal("completed order without deliverable"))?;
        let jpeg = state
            .storage
            .get(key)
            .await?
            .ok_or_else(|| AppError::internal("deliverable missing from storage"))?;
        let id = e
            .registry_student_id
            .clone()
            .or_else(|| e.admission_number.as_ref().map(|a| format!("F{a}")))
            .unwrap_or_else(|| o.number.clone());
        entries.push(Entry {
            file_name: format!("{}.jpg", safe_name(&id)),
            manifest: [
                id,
                e.student_number.clone().unwrap_or_default(),
                e.name_masked.clone(),
                o.number.clone(),
                sha256_hex(&jpeg),
                o.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ],
            jpeg,
        });
    }
    let count = entries.len();
    let zip = cpu::run(state, move || build_zip(entries)).await?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let key = format!("exports/{}/{}.zip", school.code, id.simple());
    state.storage.put(&key, Bytes::from(zip)).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    let saved = registry_export::ActiveModel {
        id: Set(id),
        school_id: Set(school.id),
        created_by: Set(viewer.account_id),
        count: Set(i32::try_from(count).unwrap_or(i32::MAX)),
        object_key: Set(key),
        created_at: Set(now),
        purpose: Set(purpose.into()),
    }
    .insert(&txn)
    .await?;
    if purpose == SCHOOL_DOWNLOAD {
        txn.commit().await?;
        return Ok(saved);
    }
    for (o, _) in &rows {
        // An order the registry refused before moves to this export, its old answer cleared.
        let moved = registry_export_item::Entity::update_many()
            .col_expr(registry_export_item::Column::ExportId, Expr::value(id))
            .col_expr(
                registry_export_item::Column::Outcome,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                registry_export_item::Column::OutcomeMessage,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                registry_export_item::Column::SettledAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(registry_export_item::Column::OrderId.eq(o.id))
            .filter(registry_export_item::Column::Outcome.eq(REJECTED))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 1 {
            continue;
        }
        let marked = registry_export_item::ActiveModel {
            order_id: Set(o.id),
            export_id: Set(id),
            outcome: Set(None),
            outcome_message: Set(None),
            settled_at: Set(None),
        }
        .insert(&txn)
        .await;
        if let Err(e) = marked {
            txn.rollback().await?;
            return Err(if is_unique_violation(&e) {
                AppError::user(
                    "EXPORT_CONFLICT",
                    "schoolCode",
                    "另一次报送刚刚包含了其中的照片，请重试",
                )
            } else {
                e.into()
            });
        }
    }
    txn.commit().await?;
    Ok(saved)
}

/// Registry ids are opaque; keep file names to safe characters.
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A CSV field, quoted when it needs to be (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn build_zip(entries: Vec<Entry>) -> AppResult<Vec<u8>> {
    use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // JPEGs are already compressed: store them; deflate the manifest.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut manifest = String::from(
        "registry_student_id,student_number,masked_name,order_number,photo_sha256,completed_at\r\n",
    );
    for entry in &entries {
        writer
            .start_file(entry.file_name.as_str(), stored)
            .map_err(AppError::internal)?;
        writer.write_all(&entry.jpeg).map_err(AppError::internal)?;
        let line: Vec<String> = entry.manifest.iter().map(|f| csv_field(f)).collect();
        manifest.push_str(&line.join(","));
        manifest.push_str("\r\n");
    }
    writer
        .start_file("manifest.csv", deflated)
        .map_err(AppError::internal)?;
    // A BOM so spreadsheet programs read the Chinese names as UTF-8.
    writer
        .write_all("\u{feff}".as_bytes())
        .and_then(|()| writer.write_all(manifest.as_bytes()))
        .map_err(AppError::internal)?;
    Ok(writer.finish().map_err(AppError::internal)?.into_inner())
}

trait WithEnrollment {
    async fn find_also_related_enrollment(
        self,
        state: &AppState,
    ) -> AppResult<Vec<(order::Model, enrollment::Model)>>;
}

impl WithEnrollment for sea_orm::Select<order::Entity> {
    /// The orders with their enrollments, in two queries.
    async fn find_also_related_enrollment(
        self,
        state: &AppState,
    ) -> AppResult<Vec<(order::Model, enrollment::Model)>> {
        let orders = self.all(&state.db).await?;
        let enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::Id.is_in(orders.iter().map(|o| o.enrollment_id)))
            .all(&state.db)
            .await?;
        orders
            .into_iter()
            .map(|o| {
                let e = enrollments
                    .iter()
                    .find(|e| e.id == o.enrollment_id)
                    .cloned()
                    .ok_or_else(|| AppError::internal("order without enrollment"))?;
                Ok((o, e))
            })
            .collect()
    }
}

pub async fn export_for(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<registry_export::Model> {
    let found = registry_export::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|e| viewer.is_staff() && in_school_scope(viewer, e.school_id).is_ok());
    found.ok_or(AppError::NotFound("找不到该报送包"))
}

/// One line of the registry's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryLine {
    pub student_number: String,
    /// Accepted, or rejected with the registry's reason.
    pub rejected: Option<String>,
}

/// Reads the registry's CSV: `student number, result, reason`. The result is 通过 / 合格 /
/// ACCEPTED or 不通过 / 不合格 / REJECTED (a rejection needs its reason); a header line and blank
/// lines are skipped. A bad line is reported by its number.
pub fn parse_result(csv: &str) -> Result<Vec<RegistryLine>, AppError> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in csv.trim_start_matches('\u{feff}').lines().enumerate() {
        let fields = split_csv_line(raw);
        let field = |i: usize| fields.get(i).map(|f| f.trim()).unwrap_or_default();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let result = field(1).to_ascii_uppercase();
        let rejected = match result.as_str() {
            "通过" | "合格" | "ACCEPTED" => None,
            "不通过" | "不合格" | "REJECTED" => Some(field(2).to_string()),
            _ if n == 0 => continue, // the header
            _ => {
                errors.push(UserError::new(
                    "INVALID_REGISTRY_RESULT",
                    format!("第 {} 行：结果应为“通过”或“不通过”", n + 1),
                ));
                continue;
            }
        };
        if field(0).is_empty() || rejected.as_deref().is_some_and(str::is_empty) {
            errors.push(UserError::new(
                "INVALID_REGISTRY_RESULT",
                format!("第 {} 行：需要学号，不通过时需要原因", n + 1),
            ));
            continue;
        }
        lines.push(RegistryLine {
            student_number: field(0).to_string(),
            rejected,
        });
    }
    if !errors.is_empty() {
        return Err(AppError::User(
            errors.into_iter().map(|e| e.on("csv")).collect(),
        ));
    }
    if lines.is_empty() {
        return Err(AppError::user(
            "INVALID_REGISTRY_RESULT",
            "csv",
            "回执中没有任何学生的结果",
        ));
    }
    Ok(lines)
}

/// Splits one CSV line (RFC 4180 quotes).
fn split_csv_line(line: &str) -> Vec<String> {
    let (mut fields, mut current, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    fields
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub accepted: usize,
    pub rejected: usize,
    /// Lines already imported before (the same answer twice changes nothing).
    pub unchanged: usize,
}

/// 导入学信网回执: applies the registry's answer to the orders an export carried, all or nothing.
pub async fn import_result(
    state: &AppState,
    viewer: &Viewer,
    export_id: Uuid,
    csv: &str,
) -> AppResult<(registry_export::Model, ImportOutcome)> {
    scope::require(viewer, Duty::ExportToRegistry)?;
    if viewer.role == Role::SchoolAdmin {
        return Err(AppError::Forbidden);
    }
    let export = export_for(state, viewer, export_id).await?;
    if export.purpose != REGISTRY {
        return Err(AppError::user(
            "NOT_A_REGISTRY_EXPORT",
            "exportId",
            "这是学校下载的照片包，没有报至学信网，不能导入回执",
        ));
    }
    let lines = parse_result(csv)?;
    let items = registry_export_item::Entity::find()
        .filter(registry_export_item::Column::ExportId.eq(export.id))
        .all(&state.db)
        .await?;
    let orders = order::Entity::find()
        .filter(order::Column::Id.is_in(items.iter().map(|i| i.order_id)))
        .find_also_related_enrollment(state)
        .await?;
    let number_of = |e: &enrollment::Model| {
        e.student_number
            .clone()
            .or_else(|| e.admission_number.clone())
            .unwrap_or_default()
    };
    let mut matched = Vec::with_capacity(lines.len());
    let mut unknown = Vec::new();
    for line in &lines {
        match orders
            .iter()
            .find(|(_, e)| number_of(e) == line.student_number)
        {
            Some((o, _)) => matched.push((line, o.clone())),
            None => unknown.push(
                UserError::new(
                    "UNKNOWN_STUDENT",
                    format!("学号 {} 不在这次报送中", line.student_number),
                )
                .on("csv"),
            ),
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::User(unknown));
    }
    let now = state.clock.now();
    let by = By::account(Actor::from(viewer.role), viewer.account_id);
    let outcome = state
        .write(async |txn| {
            let mut outcome = ImportOutcome::default();
            for (line, row) in &matched {
                let row = order::find(txn, row.id).await?;
                let item = registry_export_item::Entity::find_by_id(row.id)
                    .one(txn)
                    .await?
                    .filter(|i| i.export_id == export.id);
                let Some(item) = item else {
                    outcome.unchanged += 1;
                    continue;
                };
                if item.outcome.is_some() || row.status != OrderStatus::Completed {
                    outcome.unchanged += 1;
                    continue;
                }
                match &line.rejected {
                    None => {
                        registry_export_item::Entity::update_many()
                            .col_expr(registry_export_item::Column::Outcome, Expr::value(ACCEPTED))
                            .col_expr(registry_export_item::Column::SettledAt, Expr::value(now))
                            .filter(registry_export_item::Column::OrderId.eq(row.id))
                            .exec(txn)
                            .await?;
                        let detail = Detail::reason("REGISTRY_REPORTED", "已上报学信网");
                        let note = OrderNote::RegistryReported;
                        transition::note(txn, &row, note, by, now, Vec::new(), detail).await?;
                        outcome.accepted += 1;
                    }
                    Some(words) => {
                        // After the re-take the order goes in the next export.
                        registry_export_item::Entity::update_many()
                            .col_expr(registry_export_item::Column::Outcome, Expr::value(REJECTED))
                            .col_expr(
                                registry_export_item::Column::OutcomeMessage,
                                Expr::value(words.clone()),
                            )
                            .col_expr(registry_export_item::Column::SettledAt, Expr::value(now))
                            .filter(registry_export_item::Column::OrderId.eq(row.id))
                            .exec(txn)
                            .await?;
                        let changes = vec![
                            (order::Column::RejectionCode, Expr::value(REGISTRY_REJECTED)),
                            (order::Column::RejectionMessage, Expr::value(words.clone())),
                            (
                                order::Column::RejectionNote,
                                Expr::value(Option::<String>::None),
                            ),
                            (order::Column::RejectedBy, Expr::value(viewer.account_id)),
                            (order::Column::RejectedAt, Expr::value(now)),
                        ];
                        let detail =
                            Detail::reason(REGISTRY_REJECTED, format!("上报失败：{words}"));
                        let event = OrderEvent::RegistryReject;
                        transition::apply(txn, &row, event, by, now, changes, detail).await?;
                        restore_auto_checks(txn, row.enrollment_id).await?;
                        outcome.rejected += 1;
                    }
                }
            }
            Ok(outcome)
        })
        .await?;
    Ok((export, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_results_are_read_with_or_without_header() {
        let lines = parse_result("\u{feff}学号,结果,原因\r\n2021001,通过,\r\n2021002,不通过,\"头发遮挡眉毛, 请重拍\"\r\n\r\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            lines,
            [
                RegistryLine {
                    student_number: "2021001".into(),
                    rejected: None
                },
                RegistryLine {
                    student_number: "2021002".into(),
                    rejected: Some("头发遮挡眉毛, 请重拍".into())
                },
            ]
        );
        assert!(parse_result("2021001,maybe,").is_err());
        assert!(parse_result("学号,结果\n2021001,maybe,").is_err());
        assert!(parse_result("x,结果\n2021001,不通过,").is_err());
        assert!(parse_result("").is_err());
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("张*三"), "张*三");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(safe_name("S1234abcd"), "S1234abcd");
        assert_eq!(safe_name("../x y"), "___x_y");
    }
}
