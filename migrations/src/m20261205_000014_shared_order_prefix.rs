//! Order-number prefixes are 4 to 6 digits and may be shared by projects (the guides show
//! `000015-…` and `0000-…`, the same prefix on orders of different years): the numbers stay unique
//! through their timestamp and the collision retry, so the prefix loses its unique constraint.
//!
//! PostgreSQL drops the constraint. SQLite cannot drop a column's inline UNIQUE, so the table is
//! rebuilt from its own definition without it, on one connection with foreign keys off (the
//! documented procedure), and the foreign keys are checked before committing.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, sqlx},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_CONSTRAINT: &str = "projects_order_number_prefix_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE projects DROP CONSTRAINT IF EXISTS {PG_CONSTRAINT}"
                ))
                .await?;
                Ok(())
            }
            DbBackend::Sqlite => {
                let SchemaManagerConnection::Connection(conn) = db else {
                    return Err(DbErr::Migration(
                        "the SQLite table rebuild needs a connection of its own, not a transaction"
                            .into(),
                    ));
                };
                rebuild_sqlite(conn.get_sqlite_connection_pool(), |sql| {
                    // The column's definition runs to the next comma; its UNIQUE is in there.
                    let column = sql.find("\"order_number_prefix\"").unwrap_or(sql.len());
                    let end = sql[column..].find(',').map_or(sql.len(), |e| column + e);
                    let unique = sql[column..end]
                        .find(" UNIQUE")
                        .map(|u| column + u)
                        .ok_or_else(|| {
                            DbErr::Migration("projects.order_number_prefix is not UNIQUE".into())
                        })?;
                    let mut edited = sql.to_string();
                    edited.replace_range(unique..unique + " UNIQUE".len(), "");
                    Ok(edited)
                })
                .await
            }
            other => Err(DbErr::Migration(format!("unsupported backend {other:?}"))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Shared prefixes may exist by now; the old constraint is only restored where it holds.
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!(
                "ALTER TABLE projects ADD CONSTRAINT {PG_CONSTRAINT} UNIQUE (order_number_prefix)"
            ))
            .await?;
        }
        Ok(())
    }
}

fn sqlx_err(e: sqlx::Error) -> DbErr {
    DbErr::Migration(e.to_string())
}

/// Rebuilds the SQLite table `projects` from its stored definition edited by `edit`, keeping its
/// rows and indexes: create the new table, copy, drop the old, rename, recreate the indexes.
async fn rebuild_sqlite(
    pool: &sqlx::SqlitePool,
    edit: impl Fn(&str) -> Result<String, DbErr>,
) -> Result<(), DbErr> {
    use sqlx::{Connection, Executor, Row};
    let mut conn = pool.acquire().await.map_err(sqlx_err)?;
    // Only outside a transaction does this pragma take effect.
    conn.execute("PRAGMA foreign_keys = OFF")
        .await
        .map_err(sqlx_err)?;
    let outcome = async {
        let mut txn = conn.begin().await.map_err(sqlx_err)?;
        let table: String =
            sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'projects'")
                .fetch_one(&mut *txn)
                .await
                .map_err(sqlx_err)?
                .try_get(0)
                .map_err(sqlx_err)?;
        let indexes: Vec<String> = sqlx::query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'projects' AND sql IS NOT NULL",
        )
        .fetch_all(&mut *txn)
        .await
        .map_err(sqlx_err)?
        .into_iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .collect();
        let edited = edit(&table)?;
        let create = edited.replacen("\"projects\"", "\"projects_rebuilt\"", 1);
        if create == edited {
            return Err(DbErr::Migration("unexpected projects definition".into()));
        }
        let steps = [
            create,
            "INSERT INTO projects_rebuilt SELECT * FROM projects".into(),
            "DROP TABLE projects".into(),
            "ALTER TABLE projects_rebuilt RENAME TO projects".into(),
        ];
        // The table's and indexes' own stored definitions, not outside input.
        for statement in steps.into_iter().chain(indexes) {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *txn)
                .await
                .map_err(sqlx_err)?;
        }
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *txn)
            .await
            .map_err(sqlx_err)?;
        if !broken.is_empty() {
            return Err(DbErr::Migration(format!(
                "{} rows break a foreign key after rebuilding projects",
                broken.len()
            )));
        }
        txn.commit().await.map_err(sqlx_err)
    }
    .await;
    let restored = conn.execute("PRAGMA foreign_keys = ON").await;
    outcome?;
    restored.map_err(sqlx_err)?;
    Ok(())
}
