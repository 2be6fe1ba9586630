//! 报至学信网: packages a school's completed standard photos not exported yet into a ZIP — one
//! JPEG per student named by registry student id, plus manifest.csv — and marks them exported.
use std::io::Write;

use bytes::Bytes;
use campus_photo_domain::order::OrderStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
    sea_query::Query,
};
use uuid::Uuid;

use crate::services::scope::{self, Duty};

use super::{catalogue, cpu, sessions::Viewer};
use crate::{
    AppState,
    entities::{enrollment, order, registry_export, registry_export_item},
    error::{AppError, AppResult, is_unique_violation},
    services::scope::in_school_scope,
    storage::sha256_hex,
};

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
    let exported = Query::select()
        .column(registry_export_item::Column::OrderId)
        .from(registry_export_item::Entity)
        .to_owned();
    let rows = order::Entity::find()
        .filter(order::Column::SchoolId.eq(school.id))
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .filter(order::Column::Id.not_in_subquery(exported))
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

    let txn = state.db.begin().await?;
    let saved = registry_export::ActiveModel {
        id: Set(id),
        school_id: Set(school.id),
        created_by: Set(viewer.account_id),
        count: Set(i32::try_from(count).unwrap_or(i32::MAX)),
        object_key: Set(key),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    for (o, _) in &rows {
        let marked = registry_export_item::ActiveModel {
            order_id: Set(o.id),
            export_id: Set(id),
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

#[cfg(test)]
mod tests {
    use super::*;

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
