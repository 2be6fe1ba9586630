//! `extensions.cost` on every response: the operation's complexity and depth as validated, the
//! fields it selects once fragments are expanded, and the limits they are held to (an operation
//! over any of them is refused before it runs).
use std::sync::{Arc, Mutex};

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
    },
    parser::types::ExecutableDocument,
};

use super::request_shape::{MAX_EXPANDED_FIELDS, expanded_fields};

pub struct QueryCost {
    pub max_complexity: usize,
    pub max_depth: usize,
}

impl ExtensionFactory for QueryCost {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostReport {
            max_complexity: self.max_complexity,
            max_depth: self.max_depth,
            measured: Mutex::new(None),
            fields: Mutex::new(None),
        })
    }
}

struct CostReport {
    max_complexity: usize,
    max_depth: usize,
    measured: Mutex<Option<(usize, usize)>>,
    /// Fields selected with fragments expanded (counted after parsing).
    fields: Mutex<Option<usize>>,
}

fn number(n: usize) -> Value {
    Value::from(u64::try_from(n).unwrap_or(u64::MAX))
}

#[async_trait::async_trait]
impl Extension for CostReport {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let measured = self.measured.lock().ok().and_then(|mut m| m.take());
        let Some((complexity, depth)) = measured else {
            return response;
        };
        let mut cost = async_graphql::indexmap::IndexMap::new();
        cost.insert(async_graphql::Name::new("complexity"), number(complexity));
        cost.insert(
            async_graphql::Name::new("maxComplexity"),
            number(self.max_complexity),
        );
        cost.insert(async_graphql::Name::new("depth"), number(depth));
        cost.insert(async_graphql::Name::new("maxDepth"), number(self.max_depth));
        if let Some(fields) = self.fields.lock().ok().and_then(|mut f| f.take()) {
            cost.insert(async_graphql::Name::new("fields"), number(fields));
            cost.insert(
                async_graphql::Name::new("maxFields"),
                number(MAX_EXPANDED_FIELDS),
            );
        }
        response.extension("cost", Value::Object(cost))
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut f) = self.fields.lock() {
            *f = Some(expanded_fields(&document));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Ok(mut m) = self.measured.lock() {
            *m = Some((result.complexity, result.depth));
        }
        Ok(result)
    }
}
