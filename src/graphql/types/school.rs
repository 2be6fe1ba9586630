use async_graphql::{ID, Object};

use crate::{entities::school, graphql::context::ContextExt, ids::NodeType};

/// 学校
pub struct School(pub school::Model);

#[Object]
impl School {
    pub async fn id(&self, ctx: &async_graphql::Context<'_>) -> ID {
        ID(ctx.state().ids.encode(NodeType::School, self.0.id))
    }
    /// 院校代码 (5 digits)
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}
