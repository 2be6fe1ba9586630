//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format: GraphQL requests and
//! their latency by operation, open subscriptions, SQL statements, check and render timings,
//! payment notifications by outcome, and (read at scrape time) the work queues.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
    },
    parser::types::{ExecutableDocument, OperationType, Selection},
};
use futures::stream::BoxStream;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// The operation's name, or its first root field when it has none.
    pub operation: String,
    /// query | mutation | subscription
    pub kind: String,
    /// ok | error
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationName {
    pub operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Source {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Queue {
    pub queue: String,
}

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<OperationLabels, Counter>,
    pub request_seconds: Family<OperationName, Histogram, fn() -> Histogram>,
    pub open_subscriptions: Gauge,
    pub check_seconds: Histogram,
    pub render_seconds: Histogram,
    pub payment_notifications: Family<Outcome, Counter>,
    pub queues: Family<Queue, Gauge>,
    /// Persisted and trusted documents, by where their parsed form came from (`parsed`: the
    /// parser; `cached`: the cache of parsed documents by hash).
    pub documents: Family<Source, Counter>,
    /// Also read directly (statement counts in tests and benchmarks).
    sql_statements: Counter,
    /// Operation names that may become a label: the schema's root fields and the operations of
    /// the known documents. Names come from clients, so anything else is counted as `other`;
    /// otherwise each new name would add series until the scraper falls over.
    known_operations: std::sync::OnceLock<std::collections::HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Counts a persisted or trusted document: `parsed` by the parser, or else from the cache.
    pub fn count_document(&self, parsed: bool) {
        let source = if parsed { "parsed" } else { "cached" };
        self.documents
            .get_or_create(&Source {
                source: source.into(),
            })
            .inc();
    }

    /// How many persisted or trusted documents were parsed (`true`) or came from the cache.
    pub fn documents_counted(&self, parsed: bool) -> u64 {
        let source = if parsed { "parsed" } else { "cached" };
        self.documents
            .get_or_create(&Source {
                source: source.into(),
            })
            .get()
    }

    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("campus_photo");
        let requests = Family::<OperationLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations executed",
            requests.clone(),
        );
        let request_seconds =
            Family::<OperationName, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_buckets,
            );
        registry.register(
            "graphql_request_duration_seconds",
            "Time to execute a GraphQL operation",
            request_seconds.clone(),
        );
        let open_subscriptions = Gauge::default();
        registry.register(
            "open_subscriptions",
            "GraphQL subscriptions being served",
            open_subscriptions.clone(),
        );
        let check_seconds = latency_buckets();
        registry.register(
            "photo_check_duration_seconds",
            "Decoding and checking an uploaded photo",
            check_seconds.clone(),
        );
        let render_seconds = latency_buckets();
        registry.register(
            "photo_render_duration_seconds",
            "Rendering a standard 480x640 photo",
            render_seconds.clone(),
        );
        let payment_notifications = Family::<Outcome, Counter>::default();
        registry.register(
            "payment_notifications",
            "WeChat Pay notifications by outcome",
            payment_notifications.clone(),
        );
        let queues = Family::<Queue, Gauge>::default();
        registry.register(
            "queue_size",
            "Orders waiting, by queue (read when scraped)",
            queues.clone(),
        );
        let documents = Family::<Source, Counter>::default();
        registry.register(
            "graphql_documents",
            "Persisted and trusted documents served, by where their parsed form came from",
            documents.clone(),
        );
        let sql_statements = Counter::default();
        registry.register(
            "sql_statements",
            "SQL statements sent to the database",
            sql_statements.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            open_subscriptions,
            check_seconds,
            render_seconds,
            payment_notifications,
            queues,
            documents,
            sql_statements,
            known_operations: std::sync::OnceLock::new(),
        }
    }

    /// Called by the database connection for every statement.
    /// Sets the operation names that are labelled as themselves (once, at start).
    pub fn know_operations(&self, names: impl IntoIterator<Item = String>) {
        let _ = self.known_operations.set(names.into_iter().collect());
    }

    /// The label for an operation name: itself when known, `other` otherwise.
    pub fn operation_label(&self, name: String) -> String {
        match self.known_operations.get() {
            Some(known) if known.contains(&name) => name,
            _ => "other".into(),
        }
    }

    pub fn count_statement(&self) {
        self.sql_statements.inc();
    }

    pub fn statements(&self) -> u64 {
        self.sql_statements.get()
    }

    pub fn notification(&self, outcome: &str) {
        self.payment_notifications
            .get_or_create(&Outcome {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Times every GraphQL operation and counts open subscriptions.
pub struct GraphqlMetrics(pub Arc<Metrics>);

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationTimer {
            metrics: self.0.clone(),
            seen: Mutex::new(None),
        })
    }
}

struct OperationTimer {
    metrics: Arc<Metrics>,
    /// (name, kind) read off the parsed document.
    seen: Mutex<Option<(String, &'static str)>>,
}

/// Names an operation by its name, or by its first root field (`{ viewer { … } }` → viewer).
fn describe(doc: &ExecutableDocument, wanted: Option<&str>) -> Option<(String, &'static str)> {
    let (name, op) = doc.operations.iter().find(|(name, _)| match wanted {
        Some(w) => name.is_some_and(|n| n.as_str() == w),
        None => true,
    })?;
    let kind = match op.node.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    let label = match name {
        Some(n) => n.to_string(),
        None => op
            .node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|s| match &s.node {
                Selection::Field(f) => Some(f.node.name.node.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| "anonymous".into()),
    };
    Some((label, kind))
}

#[async_trait::async_trait]
impl Extension for OperationTimer {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let Ok(mut seen) = self.seen.lock() {
            *seen = describe(&doc, None);
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let started = std::time::Instant::now();
        let response = next.run(ctx, operation_name).await;
        let (operation, kind) = self
            .seen
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .map(|(name, kind)| {
                let name = operation_name.map_or(name, str::to_string);
                (self.metrics.operation_label(name), kind)
            })
            .unwrap_or_else(|| ("invalid".into(), "query"));
        self.metrics
            .request_seconds
            .get_or_create(&OperationName {
                operation: operation.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        self.metrics
            .requests
            .get_or_create(&OperationLabels {
                operation,
                kind: kind.into(),
                outcome: if response.errors.is_empty() {
                    "ok"
                } else {
                    "error"
                }
                .into(),
            })
            .inc();
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let guard = OpenSubscription::new(self.metrics.clone());
        let inner = next.run(ctx, stream);
        Box::pin(futures::StreamExt::map(inner, move |r| {
            let _still_open = &guard;
            r
        }))
    }
}

/// Counts a subscription open while it lives.
struct OpenSubscription(Arc<Metrics>);

impl OpenSubscription {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.open_subscriptions.inc();
        Self(metrics)
    }
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.open_subscriptions.dec();
    }
}
