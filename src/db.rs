//! Database connection (SQLite by default, PostgreSQL when configured) and migrations at start.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connects and, for SQLite, makes sure the file's folder exists. `schema` selects a PostgreSQL
/// schema (tests use one fresh schema each).
pub async fn connect(url: &str, schema: Option<&str>) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file_path(url)
        && let Some(dir) = std::path::Path::new(&path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings every connection at checkout. Pinging only connections idle for a while was
        // tried and withdrawn: right after a database blip it handed out a dropped connection and
        // the first request failed (`database_outage::`), and the order page cost the same.
        .sqlx_logging(false);
    if let Some(schema) = schema {
        options.set_schema_search_path(schema.to_string());
    }
    options.map_sqlx_sqlite_opts(|o| {
        o.foreign_keys(true)
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
    });
    let db = Database::connect(options).await?;
    // Fail at start, with the driver's message, rather than at the first request.
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
}

/// Begins a transaction that will write; every service's transaction starts here.
///
/// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), waiting up to the busy timeout
/// while another connection writes. A plain (deferred) transaction that has read cannot write
/// once another connection has committed since: SQLite answers "database is locked" at once,
/// whatever the busy timeout. That is what the outbox relay's commit, woken by one mutation, did
/// to the next request's transaction now and then. PostgreSQL begins as before.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

fn sqlite_file_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two connections to one SQLite file: a transaction that read, then writes after another
    /// connection wrote in the meantime, still commits (the other waits for it), where a
    /// deferred transaction would fail with "database is locked".
    #[tokio::test]
    async fn a_write_transaction_that_read_first_is_not_locked_out_by_another_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let db = connect(&url, None).await.expect("connect");
        db.execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .expect("table");
        let txn = begin_write(&db).await.expect("begin");
        txn.execute_unprepared("SELECT count(*) FROM t")
            .await
            .expect("read");
        let other = {
            let db = db.clone();
            tokio::spawn(async move { db.execute_unprepared("INSERT INTO t VALUES (2)").await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        txn.execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .expect("the transaction that read first may write");
        txn.commit().await.expect("commit");
        other
            .await
            .expect("task")
            .expect("the other writer waited and wrote");
        let rows = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM t",
            ))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(rows.try_get::<i64>("", "n").expect("n"), 2);
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_file_path("sqlite://data/x.db?mode=rwc").as_deref(),
            Some("data/x.db")
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://x"), None);
    }
}
