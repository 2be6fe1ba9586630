//! Relay connections: a page of rows (from `services::paging`) turned into a connection whose
//! cursors are global ids, with `totalCount`.
use async_graphql::{
    SimpleObject,
    connection::{Connection, Edge},
};
use uuid::Uuid;

use crate::ids::{GlobalIds, NodeType};
pub use crate::services::paging::{DEFAULT_PAGE, MAX_PAGE, Page, PageArgs, page_by_id, page_size};

/// The extra field every connection carries.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct TotalCount {
    /// How many items match, across all pages.
    pub total_count: i64,
}

/// Turns a page into a Relay connection of `Node`s whose cursors are their global ids.
pub fn into_connection<M, N>(
    page: Page<M>,
    ids: &GlobalIds,
    node_type: NodeType,
    id_of: impl Fn(&M) -> Uuid,
    mut to_node: impl FnMut(M) -> N,
) -> Connection<String, N, TotalCount>
where
    N: async_graphql::OutputType,
{
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        TotalCount {
            total_count: page.total_count,
        },
    );
    connection.edges.extend(page.items.into_iter().map(|m| {
        let cursor = ids.encode(node_type, id_of(&m));
        Edge::new(cursor, to_node(m))
    }));
    connection
}

/// A newest-first keyset page of whole rows of `select` (by the table's UUIDv7 `id_column`) as a
/// connection of `to_node`: what every staff list that reads its rows itself does.
pub async fn newest_first<E, C, N>(
    state: &crate::AppState,
    select: sea_orm::Select<E>,
    id_column: C,
    args: PageArgs,
    node_type: NodeType,
    id_of: impl Fn(&E::Model) -> Uuid,
    to_node: impl FnMut(E::Model) -> N,
) -> crate::error::ApiResult<Connection<String, N, TotalCount>>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ColumnTrait,
    E::Model: Sync,
    N: async_graphql::OutputType,
{
    let page = page_by_id(
        &state.db, select, id_column, true, &args, &state.ids, node_type,
    )
    .await?;
    Ok(into_connection(page, &state.ids, node_type, id_of, to_node))
}
