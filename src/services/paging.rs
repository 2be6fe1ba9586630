//! Keyset pages over time-ordered (UUIDv7) ids: `first`/`last` within 1..=100 (anything else is
//! BAD_USER_INPUT naming the bounds, never cut silently), opaque cursors (global ids) and the
//! total count. The GraphQL layer turns a page into a connection.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
    Statement,
    sea_query::{Alias, Asterisk, Expr, Order, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    ids::{GlobalIds, NodeType},
};

pub const MAX_PAGE: i32 = 100;
pub const DEFAULT_PAGE: i32 = 20;

/// Relay paging arguments.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// The page size a `first`/`last` argument asks for, clamped to 1..=100, for the complexity
/// estimate (which runs before the arguments are checked); paging itself uses [`checked_size`].
pub fn page_size(n: Option<i32>) -> usize {
    n.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize
}

/// The page size `argument` (`first` or `last`) asks for: the default when absent, and
/// BAD_USER_INPUT naming the bounds when outside 1..=100.
pub fn checked_size(argument: &str, n: Option<i32>) -> AppResult<usize> {
    match n {
        None => Ok(DEFAULT_PAGE as usize),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n as usize),
        Some(n) => Err(AppError::BadUserInput(format!(
            "{argument} 须在 1 到 {MAX_PAGE} 之间（收到 {n}；每页最多 {MAX_PAGE} 条）"
        ))),
    }
}

/// The column a first page carries its total count in (`COUNT(*) OVER ()`).
const TOTAL_COLUMN: &str = "page_total_count";

pub struct Page<M> {
    pub items: Vec<M>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: i64,
}

/// Pages `select` by its UUIDv7 id column. `newest_first` orders by creation time descending.
pub async fn page_by_id<E, C>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_column: C,
    newest_first: bool,
    args: &PageArgs,
    ids: &GlobalIds,
    node_type: NodeType,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
    E::Model: Sync,
{
    let rows = PageRows {
        widen: std::convert::identity,
        read: |row: &QueryResult| E::Model::from_query_result(row, ""),
        per_row: Vec::new(),
    };
    page_by_id_read(
        db,
        select,
        id_column,
        newest_first,
        args,
        ids,
        node_type,
        rows,
    )
    .await
}

/// How a page's rows are read: `widen` adds columns (of joined tables) to the rows' statement,
/// not to a separate count's, `per_row` adds columns computed for the page's rows only, and
/// `read` decodes each row.
pub struct PageRows<W, R> {
    pub widen: W,
    pub read: R,
    /// Named expressions (correlated subqueries, typically) evaluated once per row of the page,
    /// after its LIMIT: the page becomes a subquery `PAGE_ALIAS` whose rows carry their key as
    /// `PAGE_KEY`, and these columns follow its own. In the rows' own select list SQLite would
    /// evaluate them for every row the filter matches (for every row of the window when the page
    /// counts), not for the page's twenty.
    pub per_row: Vec<(SimpleExpr, &'static str)>,
}

/// The name of a page's rows, for [`PageRows::per_row`] expressions.
pub const PAGE_ALIAS: &str = "page";
/// The column a page's row carries its key (the paged id) in, for [`PageRows::per_row`].
pub const PAGE_KEY: &str = "page_key";

/// [`page_by_id`] with rows widened and read as `rows` says.
#[allow(clippy::too_many_arguments)]
pub async fn page_by_id_read<E, C, M, W, R>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_column: C,
    newest_first: bool,
    args: &PageArgs,
    ids: &GlobalIds,
    node_type: NodeType,
    rows: PageRows<W, R>,
) -> AppResult<Page<M>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ColumnTrait,
    W: FnOnce(Select<E>) -> Select<E>,
    R: Fn(&QueryResult) -> Result<M, DbErr>,
{
    let decode = |cursor: &Option<String>| -> AppResult<Option<Uuid>> {
        match cursor {
            None => Ok(None),
            Some(c) => ids
                .decode_as(node_type, c)
                .map(Some)
                .ok_or_else(|| AppError::BadUserInput("分页游标无效".into())),
        }
    };
    let after = decode(&args.after)?;
    let before = decode(&args.before)?;
    if args.first.is_some() && args.last.is_some() {
        return Err(AppError::BadUserInput("first 和 last 不能同时使用".into()));
    }

    // "Forward" walks in the display order; "backward" (last/before) walks against it.
    let backward = args.last.is_some() || (before.is_some() && args.first.is_none());
    let size = if backward {
        checked_size("last", args.last)?
    } else {
        checked_size("first", args.first)?
    };
    let first_page = after.is_none() && before.is_none();
    let select_count = (!first_page).then(|| select.clone());
    let mut query = select;
    if let Some(a) = after {
        query = query.filter(if newest_first {
            id_column.lt(a)
        } else {
            id_column.gt(a)
        });
    }
    if let Some(b) = before {
        query = query.filter(if newest_first {
            id_column.gt(b)
        } else {
            id_column.lt(b)
        });
    }
    let ascending = newest_first == backward;
    query = if ascending {
        query.order_by_asc(id_column)
    } else {
        query.order_by_desc(id_column)
    };
    let query = (rows.widen)(query.limit(size as u64 + 1));
    let backend = db.get_database_backend();
    let statement = |query: Select<E>| -> Statement {
        if rows.per_row.is_empty() {
            return query.build(backend);
        }
        let page = query.expr_as(id_column.into_expr(), PAGE_KEY).into_query();
        let mut outer = Query::select();
        outer.column((Alias::new(PAGE_ALIAS), Asterisk));
        for (expr, name) in &rows.per_row {
            outer.expr_as(expr.clone(), Alias::new(*name));
        }
        outer.from_subquery(page, Alias::new(PAGE_ALIAS)).order_by(
            (Alias::new(PAGE_ALIAS), Alias::new(PAGE_KEY)),
            if ascending { Order::Asc } else { Order::Desc },
        );
        backend.build(&outer)
    };
    // A first page (no cursor) counts in the same statement: the window sees every row the
    // filter matches before LIMIT (and no row means a count of 0). Behind a cursor the keyset
    // condition would narrow that count, so those pages count in a statement of their own.
    let (mut items, total_count) = match select_count {
        None => {
            let found = db
                .query_all_raw(statement(
                    query.expr_as(Expr::cust("COUNT(*) OVER ()"), TOTAL_COLUMN),
                ))
                .await?;
            let total = match found.first() {
                Some(row) => row.try_get("", TOTAL_COLUMN)?,
                None => 0,
            };
            (
                found
                    .iter()
                    .map(&rows.read)
                    .collect::<Result<Vec<M>, _>>()?,
                total,
            )
        }
        Some(select_count) => {
            let total = select_count.count(db).await? as i64;
            let found = db.query_all_raw(statement(query)).await?;
            (
                found
                    .iter()
                    .map(&rows.read)
                    .collect::<Result<Vec<M>, _>>()?,
                total,
            )
        }
    };
    let more = items.len() > size;
    items.truncate(size);
    if backward {
        items.reverse();
    }
    Ok(Page {
        items,
        has_previous_page: if backward { more } else { after.is_some() },
        has_next_page: if backward { before.is_some() } else { more },
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_outside_the_bounds_are_refused_naming_them() {
        assert_eq!(checked_size("first", None).unwrap(), 20);
        assert_eq!(checked_size("first", Some(100)).unwrap(), 100);
        for n in [0, -1, 101, 10_000] {
            let e = checked_size("first", Some(n)).unwrap_err();
            assert_eq!(e.code(), "BAD_USER_INPUT");
            assert!(e.to_string().contains("first") && e.to_string().contains("100"));
        }
    }

    #[test]
    fn page_sizes_are_clamped() {
        assert_eq!(page_size(None), 20);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(-5)), 1);
        assert_eq!(page_size(Some(100)), 100);
        assert_eq!(page_size(Some(10_000)), 100);
    }
}
