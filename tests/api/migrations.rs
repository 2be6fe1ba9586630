//! Upgrading a database that holds data: the migration that lets projects share an order-number
//! prefix (a table rebuild on SQLite) keeps every project and what refers to it.
use crate::common;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, Expr, Query},
};
use uuid::Uuid;

/// How many migrations come before the shared prefixes (m20261205_000014).
const BEFORE_SHARED_PREFIXES: u32 = 12;

#[tokio::test]
async fn shared_prefixes_keep_the_projects_and_what_refers_to_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, schema) = match common::postgres_url() {
        Some(url) => {
            let schema = common::fresh_postgres_schema(&url).await;
            (url, Some(schema))
        }
        None => (
            format!("sqlite://{}/upgrade.db?mode=rwc", dir.path().display()),
            None,
        ),
    };
    let db = campus_photo::db::connect(&url, schema.as_deref())
        .await
        .expect("connect");
    Migrator::up(&db, Some(BEFORE_SHARED_PREFIXES))
        .await
        .expect("older migrations");

    let now = chrono::Utc::now();
    let (school, project, enrollment) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let insert = |table: &str, columns: &[&str], values: Vec<sea_orm::Value>| {
        Query::insert()
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .values_panic(values.into_iter().map(Expr::val))
            .to_owned()
    };
    db.execute(&insert(
        "schools",
        &["id", "code", "name", "created_at"],
        vec![
            school.into(),
            "10027".into(),
            "北京师范大学".into(),
            now.into(),
        ],
    ))
    .await
    .expect("school");
    let project_row = |id: Uuid, feature: &str| {
        insert(
            "projects",
            &[
                "id",
                "school_id",
                "name",
                "feature_code",
                "mode",
                "price_fen",
                "order_number_prefix",
                "allow_album_upload",
                "max_auto_checks",
                "background",
                "print_layouts",
                "prints_to_school",
                "created_at",
            ],
            vec![
                id.into(),
                school.into(),
                "2027届".into(),
                feature.into(),
                "INDIVIDUAL".into(),
                3000i64.into(),
                "000015".into(),
                true.into(),
                10i32.into(),
                "BLUE".into(),
                serde_json::json!([]).into(),
                false.into(),
                now.into(),
            ],
        )
    };
    db.execute(&project_row(project, "BNU27"))
        .await
        .expect("project");
    let refused = db.execute(&project_row(Uuid::now_v7(), "BNU28")).await;
    assert!(refused.is_err(), "the prefix was unique before");
    db.execute(&insert(
        "enrollments",
        &[
            "id",
            "project_id",
            "school_id",
            "source",
            "identity_key",
            "name_masked",
            "id_number_masked",
            "auto_checks_used",
            "created_at",
        ],
        vec![
            enrollment.into(),
            project.into(),
            school.into(),
            "COLLECTION_CODE".into(),
            "R:S1".into(),
            "张*三".into(),
            "110101********123X".into(),
            0i32.into(),
            now.into(),
        ],
    ))
    .await
    .expect("enrollment");

    Migrator::up(&db, None).await.expect("the rest");

    // The project and its enrollment are still there, and a second project may share the prefix.
    let count = |table: &str| {
        Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(Alias::new(table))
            .to_owned()
    };
    for table in ["projects", "enrollments"] {
        let row = db.query_one(&count(table)).await.expect("count");
        let n: i64 = row.expect("row").try_get_by_index(0).expect("n");
        assert_eq!(n, 1, "{table}");
    }
    db.execute(&project_row(Uuid::now_v7(), "BNU28"))
        .await
        .expect("a shared prefix");
    // Foreign keys still hold after the rebuild: an enrollment of no project is refused.
    let orphan = db
        .execute(&insert(
            "enrollments",
            &[
                "id",
                "project_id",
                "school_id",
                "source",
                "identity_key",
                "name_masked",
                "id_number_masked",
                "auto_checks_used",
                "created_at",
            ],
            vec![
                Uuid::now_v7().into(),
                Uuid::now_v7().into(),
                school.into(),
                "COLLECTION_CODE".into(),
                "R:S2".into(),
                "李*四".into(),
                "110101********123X".into(),
                0i32.into(),
                now.into(),
            ],
        ))
        .await;
    assert!(orphan.is_err(), "foreign keys are enforced");
    // The feature code stays unique.
    assert!(
        db.execute(&project_row(Uuid::now_v7(), "BNU27"))
            .await
            .is_err()
    );
}
