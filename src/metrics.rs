//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format: GraphQL requests and
//! their latency by operation, open subscriptions, SQL statements, check and render timings,
//! payment notifications by outcome, and (read at scrape time) the work queues.
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
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

fn validation(repeat: bool) -> Source {
    Source {
        source: if repeat { "repeat" } else { "full" }.into(),
    }
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
    /// Requests by how their document was validated (`full`; `repeat`: a text without variables
    /// that passed the full validation before, see `graphql/validated.rs`).
    pub validations: Family<Source, Counter>,
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

    /// Counts a request's validation: a `repeat` of a validated document, or `full`.
    pub fn count_validation(&self, repeat: bool) {
        self.validations.get_or_create(&validation(repeat)).inc();
    }

    /// How many requests were validated as repeats (`true`) or fully.
    pub fn validations_counted(&self, repeat: bool) -> u64 {
        self.validations.get_or_create(&validation(repeat)).get()
    }

    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("campus_photo");
        let validations = Family::<Source, Counter>::default();
        registry.register(
            "graphql_validations",
            "GraphQL requests by validation: full, or repeat of a document that passed it",
            validations.clone(),
        );
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
            validations,
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

    /// Times one operation: `label` is its name (or first root field) as the document gave it,
    /// `None` when it did not parse.
    pub fn observe_operation(
        &self,
        label: Option<String>,
        kind: OperationType,
        took: std::time::Duration,
        ok: bool,
    ) {
        let operation = label.map_or_else(|| "invalid".into(), |name| self.operation_label(name));
        let kind = match kind {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        self.request_seconds
            .get_or_create(&OperationName {
                operation: operation.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&OperationLabels {
                operation,
                kind: kind.into(),
                outcome: if ok { "ok" } else { "error" }.into(),
            })
            .inc();
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

/// Names an operation by its name, or by its first root field (`{ viewer { … } }` → viewer).
pub fn describe(doc: &ExecutableDocument, wanted: Option<&str>) -> Option<(String, &'static str)> {
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

/// Counts a subscription open while it lives.
pub struct OpenSubscription(Arc<Metrics>);

impl OpenSubscription {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        metrics.open_subscriptions.inc();
        Self(metrics)
    }
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.open_subscriptions.dec();
    }
}
